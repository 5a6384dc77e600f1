/**
 * Connections opened on each hop of the agent path while a load runs, counted in this process
 * (which holds the E2B server) through Node's `net` diagnostics channels: sockets the E2B server
 * accepted (from the SDK's process) and sockets this process opened to the agent. Divided by the
 * commands, it says whether a connection is kept across commands (≈ 0) or made per command (≥ 1).
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

export const perCommand = (before: Counts, after: Counts, commands: number): string =>
  commands === 0
    ? "–"
    : `${((after.accepted - before.accepted) / commands).toFixed(2)} / ${((after.toAgent - before.toAgent) / commands).toFixed(2)}`
