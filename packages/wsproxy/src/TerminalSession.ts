/**
 * One terminal: the browser's WebSocket bridged to a TTY in the sandbox. It ends on whichever
 * comes first (the shell exits, the browser goes, nothing happens for the idle timeout, a ping
 * goes unanswered, wsproxy stops), and then both sides are closed: the browser with a code and a
 * reason it can show, the shell killed and its exec closed (ExecTty).
 */
import type { EnvdError, SandboxShell, SandboxTarget } from "@agent-sandbox/envd"
import { Clock, Deferred, Duration, Effect, Exit, Queue, type Scope, Stream } from "effect"
import type { WebSocket } from "ws"
import * as ExecTty from "./ExecTty.ts"
import { CloseCode, type Incoming, parse } from "./TerminalFrames.ts"

export interface SessionOptions {
  /** The terminal's size when the shell starts (the page's, from the URL). */
  readonly size: ExecTty.TerminalSize
  readonly idleTimeout: Duration.Duration
  readonly pingInterval: Duration.Duration
}

export type SessionEnd =
  | { readonly _tag: "Exited"; readonly exit: SandboxShell.CommandExit }
  | { readonly _tag: "Failed"; readonly message: string }
  | { readonly _tag: "BrowserGone" }
  | { readonly _tag: "Unresponsive" }
  | { readonly _tag: "Idle" }
  | { readonly _tag: "Invalid"; readonly message: string }

const open = 1

/** Close reasons are at most 123 bytes. */
export const closeReason = (text: string): string => {
  const bytes = Buffer.from(text)
  return bytes.length <= 123
    ? text
    : `${bytes
        .subarray(0, 120)
        .toString("utf8")
        .replace(/\uFFFD+$/, "")}...`
}

/** The close code and reason for the browser; undefined when it is already gone. */
export const closingOf = (
  end: SessionEnd,
): { readonly code: number; readonly reason: string } | undefined => {
  switch (end._tag) {
    case "Exited":
      return end.exit._tag === "Exited"
        ? { code: CloseCode.exited, reason: `exited ${end.exit.exitCode}` }
        : { code: CloseCode.exited, reason: closeReason(`ended: ${end.exit.message}`) }
    case "Failed":
      return { code: CloseCode.failed, reason: closeReason(end.message) }
    case "Idle":
      return { code: CloseCode.idle, reason: "idle timeout" }
    case "Invalid":
      return { code: CloseCode.invalid, reason: closeReason(end.message) }
    case "BrowserGone":
    case "Unresponsive":
      return undefined
  }
}

const send = (socket: WebSocket, bytes: Uint8Array): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    if (socket.readyState !== open) return resume(Effect.void)
    // A failed send means the socket is closing: its close event ends the session.
    socket.send(bytes, { binary: true }, () => resume(Effect.void))
  })

/** Runs the terminal until it ends; returns how it ended. The socket is open and admitted. */
export const run = (
  socket: WebSocket,
  target: SandboxTarget.SandboxTarget,
  options: SessionOptions,
): Effect.Effect<SessionEnd, never, SandboxShell.SandboxShell | Scope.Scope> =>
  Effect.gen(function* () {
    const incoming = yield* Queue.unbounded<Incoming>()
    const browserGone = yield* Deferred.make<SessionEnd>()
    let lastActivity = yield* Clock.currentTimeMillis
    let answered = true
    const touch = () => {
      lastActivity = Date.now()
    }
    // Listened to before the TTY opens, so the page's first resize is not lost.
    socket.on("message", (data: Buffer, isBinary: boolean) => {
      touch()
      incoming.unsafeOffer(parse(data, isBinary))
    })
    socket.on("pong", () => {
      answered = true
    })
    socket.on("close", () => Deferred.unsafeDone(browserGone, Exit.succeed({ _tag: "BrowserGone" })))
    if (socket.readyState !== open) return { _tag: "BrowserGone" } satisfies SessionEnd

    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        // Interrupted (wsproxy stopping) with the browser still there.
        if (socket.readyState === open) socket.close(CloseCode.goingAway, "wsproxy is stopping")
      }),
    )

    const tty = yield* ExecTty.open(target, options.size).pipe(Effect.either)
    if (tty._tag === "Left") return { _tag: "Failed", message: tty.left.message } satisfies SessionEnd
    const process = tty.right

    const input = Effect.gen(function* () {
      while (true) {
        const message = yield* Queue.take(incoming)
        switch (message._tag) {
          case "Input":
            yield* process.write(message.bytes)
            break
          case "Resize":
            yield* process.resize({ cols: message.cols, rows: message.rows })
            break
          case "Invalid":
            return { _tag: "Invalid", message: message.message } satisfies SessionEnd
        }
      }
    })

    const output = process.output.pipe(
      Stream.runForEach((bytes) => Effect.zipRight(Effect.sync(touch), send(socket, bytes))),
      Effect.zipRight(process.exit),
      Effect.map((exit): SessionEnd => ({ _tag: "Exited", exit })),
      Effect.catchAll((error: EnvdError.EnvdError) =>
        Effect.succeed<SessionEnd>({ _tag: "Failed", message: error.message }),
      ),
    )

    const idle = Effect.gen(function* () {
      const limit = Duration.toMillis(options.idleTimeout)
      while (true) {
        const now = yield* Clock.currentTimeMillis
        const left = lastActivity + limit - now
        if (left <= 0) return { _tag: "Idle" } satisfies SessionEnd
        yield* Effect.sleep(Duration.millis(left))
      }
    })

    const keepalive = Effect.gen(function* () {
      while (true) {
        yield* Effect.sleep(options.pingInterval)
        if (!answered) return { _tag: "Unresponsive" } satisfies SessionEnd
        answered = false
        socket.ping()
      }
    })

    const ends: ReadonlyArray<Effect.Effect<SessionEnd>> = [
      Deferred.await(browserGone),
      output,
      input,
      idle,
      keepalive,
    ]
    const end = yield* Effect.raceAll(ends)
    const closing = closingOf(end)
    if (end._tag === "Unresponsive") socket.terminate()
    else if (closing !== undefined && socket.readyState === open) socket.close(closing.code, closing.reason)
    return end
  })
