/** A terminal as a program would open one: a `ws` WebSocket, its screen text and how it closed. */
import { Deferred, Effect, Exit, Schedule, type Scope } from "effect"
import { WebSocket } from "ws"

export interface Closed {
  readonly code: number
  readonly reason: string
}

export interface TerminalClient {
  readonly screen: () => string
  readonly type: (text: string) => Effect.Effect<void>
  readonly resize: (cols: number, rows: number) => Effect.Effect<void>
  /** Waits until the screen (since `from`) shows `text`. */
  readonly waitFor: (text: string | RegExp, from?: number) => Effect.Effect<string, string>
  readonly closed: Effect.Effect<Closed>
  readonly close: Effect.Effect<void>
}

/** Opens `url` (ws://...); fails with the HTTP status when the upgrade is refused. The scope closes it. */
export const open = (
  url: string,
  options: { readonly origin?: string } = {},
): Effect.Effect<TerminalClient, number | string, Scope.Scope> =>
  Effect.gen(function* () {
    const closed = yield* Deferred.make<Closed>()
    let text = ""
    const socket = yield* Effect.acquireRelease(
      Effect.async<WebSocket, number | string>((resume) => {
        const ws = new WebSocket(url, options.origin === undefined ? {} : { origin: options.origin })
        ws.on("message", (data: Buffer) => {
          text += data.toString("utf8")
        })
        ws.on("close", (code, reason) =>
          Deferred.unsafeDone(closed, Exit.succeed({ code, reason: reason.toString() })),
        )
        ws.on("unexpected-response", (_request, response) => resume(Effect.fail(response.statusCode ?? 0)))
        ws.on("error", (error) => resume(Effect.fail(error.message)))
        ws.on("open", () => resume(Effect.succeed(ws)))
      }),
      (ws) => Effect.sync(() => ws.terminate()),
    )
    const send = (data: string | Uint8Array) =>
      Effect.async<void>((resume) => socket.send(data, () => resume(Effect.void)))
    return {
      screen: () => text,
      type: (input) => send(new TextEncoder().encode(input)),
      resize: (cols, rows) => send(JSON.stringify({ type: "resize", cols, rows })),
      waitFor: (wanted, from = 0) =>
        Effect.suspend(() => {
          const seen = text.slice(from)
          const found = typeof wanted === "string" ? seen.includes(wanted) : wanted.test(seen)
          return found ? Effect.succeed(seen) : Effect.fail(`not yet on screen: ${String(wanted)}\n${seen}`)
        }).pipe(Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 450 })),
      closed: Deferred.await(closed),
      close: Effect.zipRight(
        Effect.sync(() => socket.close(1000, "done")),
        Effect.asVoid(Deferred.await(closed)),
      ),
    } satisfies TerminalClient
  })
