/**
 * Connections opened on each hop of the agent path while a load runs, counted in this process
 * (which holds the E2B server) through Node's `net` diagnostics channels: sockets the E2B server
 * accepted (from the SDK's process) and sockets this process opened to the agent. Kept-alive pools
 * open at most one per concurrent request (the pool growing to the load's concurrency); a
 * connection made per command would show as about as many as the commands.
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel"
import type { Socket } from "node:net"
import { Effect, type Scope } from "effect"

export interface Counts {
  readonly accepted: number
  readonly toAgent: number
}

export interface SocketCount {
  readonly sample: () => Counts
}

const socketOf = (message: unknown): Socket | undefined =>
  typeof message === "object" && message !== null && "socket" in message
    ? (message as { readonly socket: Socket }).socket
    : undefined

/** Counts until the scope closes: connections accepted on `serverPort`, opened to `agentPort`. */
export const make = (serverPort: number, agentPort: number): Effect.Effect<SocketCount, never, Scope.Scope> =>
  Effect.gen(function* () {
    let accepted = 0
    let toAgent = 0
    const onAccepted = (message: unknown) => {
      if (socketOf(message)?.localPort === serverPort) accepted++
    }
    const onOpened = (message: unknown) => {
      const socket = socketOf(message)
      socket?.once("connect", () => {
        if (socket.remotePort === agentPort) toAgent++
      })
    }
    yield* Effect.acquireRelease(
      Effect.sync(() => {
        subscribe("net.server.socket", onAccepted)
        subscribe("net.client.socket", onOpened)
      }),
      () =>
        Effect.sync(() => {
          unsubscribe("net.server.socket", onAccepted)
          unsubscribe("net.client.socket", onOpened)
        }),
    )
    return { sample: () => ({ accepted, toAgent }) }
  })

/** Connections opened between two samples on each hop, "SDK → server / server → agent". */
export const opened = (before: Counts, after: Counts): string =>
  `${after.accepted - before.accepted} / ${after.toAgent - before.toAgent}`
