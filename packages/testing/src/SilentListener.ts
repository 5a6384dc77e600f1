/**
 * A TCP listener on loopback that accepts every connection, keeps what each sent and never
 * answers: a peer that hangs (a node agent wedged after accept, say), for tests of the timeouts of
 * whoever calls it. Closed, with the connections it holds, with the scope.
 */
import { createServer, type Socket } from "node:net"
import { Effect, type Scope } from "effect"

export interface SilentListener {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  /** What each connection sent so far (the request line and headers of an HTTP call), in order of arrival. */
  readonly received: Effect.Effect<ReadonlyArray<string>>
}

/** Bytes kept per connection: enough for a request line and its headers. */
const keptBytes = 16 * 1024

export const make: Effect.Effect<SilentListener, Error, Scope.Scope> = Effect.gen(function* () {
  const sockets = new Set<Socket>()
  const received: Array<string> = []
  const server = createServer((socket) => {
    const index = received.push("") - 1
    sockets.add(socket)
    socket.setEncoding("utf8")
    socket.on("data", (chunk: string) => {
      if (received[index]!.length < keptBytes) received[index] += chunk
    })
    socket.on("error", () => undefined)
    socket.on("close", () => sockets.delete(socket))
  })
  const port = yield* Effect.acquireRelease(
    Effect.async<number, Error>((resume) => {
      server.once("error", (error) => resume(Effect.fail(error)))
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0))
      })
    }),
    () =>
      Effect.async<void>((resume) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resume(Effect.void))
      }),
  )
  return { url: `http://127.0.0.1:${port}`, received: Effect.sync(() => [...received]) }
})
