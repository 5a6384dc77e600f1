import { Chunk, Deferred, Effect, Exit, Mailbox, Option, type Scope, Stream } from "effect"
import * as Protocol from "./ExecProtocol.ts"
import { KubeConfig } from "./KubeConfig.ts"
import * as KubeError from "./KubeError.ts"
import * as WebSocketDialer from "./WebSocketDialer.ts"

export type TerminalSize = Protocol.TerminalSize

export interface ExecOptions {
  readonly namespace: string
  readonly pod: string
  /** May be omitted for single-container Pods. */
  readonly container?: string
  readonly command: ReadonlyArray<string>
  /**
   * Bytes for the command's stdin. When it ends, stdin is closed (v5.channel.k8s.io only;
   * over v4 the command sees end of input only when the exec ends).
   */
  readonly stdin?: Stream.Stream<Uint8Array>
  /** Run under a terminal: stderr is merged into stdout. */
  readonly tty?: boolean
  /** Terminal size changes (tty only). */
  readonly resize?: Stream.Stream<TerminalSize>
}

export interface ExitStatus {
  readonly exitCode: number
}

export interface ExecProcess {
  /** The subprotocol the server chose, e.g. "v5.channel.k8s.io". */
  readonly protocol: string
  /** Single consumer. Read stdout and stderr concurrently: a full one stalls the connection. */
  readonly stdout: Stream.Stream<Uint8Array, KubeError.KubeError>
  readonly stderr: Stream.Stream<Uint8Array, KubeError.KubeError>
  /** The exit code once the command ends; fails if it could not run or the connection broke. */
  readonly status: Effect.Effect<ExitStatus, KubeError.KubeError>
}

type ExecSocket = WebSocketDialer.WebSocketClient

const socketClosed = 3

interface Frame {
  readonly channel: number
  readonly payload: Uint8Array
}

/** Output chunks each of stdout/stderr may hold before the connection is paused. */
const outputCapacity = 16
/** Unrouted frames read before we pause the socket, and the level at which we resume it. */
const inboxHigh = 32
const inboxLow = 8

// ws reports a refused upgrade only as text; recover the HTTP status from it.
const connectError =
  (operation: string) =>
  (cause: unknown): KubeError.KubeError => {
    const message =
      cause !== null && typeof cause === "object" && "message" in cause
        ? String(cause.message)
        : String(cause)
    const status = /Unexpected server response: (\d+)/.exec(message)?.[1]
    return status !== undefined
      ? KubeError.fromStatus(operation, Number(status), message)
      : KubeError.fromUnknown(operation)(cause)
  }

const send = (socket: ExecSocket, data: Uint8Array): Effect.Effect<void, Error> =>
  Effect.async<void, Error>((resume) => {
    socket.send(data, (error) =>
      resume(error === undefined || error === null ? Effect.void : Effect.fail(error)),
    )
  })

/**
 * Runs a command in a container over a WebSocket. The scope owns the connection: closing it
 * terminates the WebSocket and fails whatever is still unread. The command itself is not
 * necessarily killed (runtimes leave it until it hits a closed pipe; KWOK leaves it be), so
 * bound long commands in the command line (e.g. `timeout 60 ...`). Output is delivered with
 * backpressure: when a consumer falls behind, the socket is paused instead of buffering.
 * Connections to one cluster share a TLS context and session cache (WebSocketDialer).
 */
export const exec = (
  options: ExecOptions,
): Effect.Effect<ExecProcess, KubeError.KubeError, KubeConfig | Scope.Scope> =>
  Effect.gen(function* () {
    const dialer = yield* WebSocketDialer.forConfig(yield* KubeConfig)
    const operation = `exec v1/pods ${options.namespace}/${options.pod}`
    const tty = options.tty === true
    const path = Protocol.execPath({
      namespace: options.namespace,
      pod: options.pod,
      ...(options.container !== undefined ? { container: options.container } : {}),
      command: options.command,
      // A TTY always gets a stdin (left empty when none is given): KWOK's TTY exec crashes
      // on a nil stdin, and a terminal without input is what a real runtime gives anyway.
      stdin: options.stdin !== undefined || tty,
      tty,
    })

    const inbox = yield* Mailbox.make<Frame>()
    const stdout = yield* Mailbox.make<Uint8Array, KubeError.KubeError>({ capacity: outputCapacity })
    const stderr = yield* Mailbox.make<Uint8Array, KubeError.KubeError>({ capacity: outputCapacity })
    const status = yield* Deferred.make<ExitStatus, KubeError.KubeError>()
    let socket: ExecSocket | undefined

    // Binary messages are frames: a channel byte, then the payload. The protocol has no text ones.
    const onMessage = (data: Buffer, isBinary: boolean): void => {
      if (!isBinary || data.length === 0) return
      inbox.unsafeOffer({ channel: data[0] as number, payload: data.subarray(1) })
      if (
        socket !== undefined &&
        !socket.isPaused &&
        Option.getOrElse(inbox.unsafeSize(), () => 0) > inboxHigh
      ) {
        socket.pause()
      }
    }

    socket = yield* Effect.acquireRelease(
      Effect.async<ExecSocket, KubeError.KubeError>((resume) => {
        let abandoned = false
        dialer.open(path, Protocol.subprotocols, onMessage).then(
          (ws: ExecSocket) => {
            if (abandoned) ws.terminate()
            else resume(Effect.succeed(ws))
          },
          (cause: unknown) => resume(Effect.fail(connectError(operation)(cause))),
        )
        return Effect.sync(() => {
          abandoned = true
        })
      }),
      (ws) => Effect.sync(() => ws.readyState !== socketClosed && ws.terminate()),
    )
    const ws = socket

    // Why output stopped without a status, for the error the readers get.
    let closeReason = "connection closed before the command's status arrived"
    let failure: Error | undefined
    ws.on("error", (error) => {
      failure = error
    })
    ws.on("close", (code, reason) => {
      const detail = failure?.message ?? `code ${code}${reason.length > 0 ? `: ${reason.toString()}` : ""}`
      closeReason = `connection closed before the command's status arrived (${detail})`
      inbox.unsafeDone(Exit.void)
    })
    if (ws.readyState === socketClosed) inbox.unsafeDone(Exit.void)

    const broken = () =>
      new KubeError.KubeError({ reason: "Transport", status: 0, message: closeReason, operation })

    const route = (frame: Frame): Effect.Effect<unknown> => {
      switch (frame.channel) {
        // Servers open each output channel with an empty frame: nothing for the reader.
        case Protocol.Channel.stdout:
          return frame.payload.length === 0 ? Effect.void : stdout.offer(frame.payload)
        case Protocol.Channel.stderr:
          return frame.payload.length === 0 ? Effect.void : stderr.offer(frame.payload)
        case Protocol.Channel.status: {
          const outcome = Protocol.parseStatus(frame.payload)
          return outcome._tag === "Exited"
            ? Deferred.succeed(status, { exitCode: outcome.exitCode })
            : Deferred.fail(
                status,
                // No exit code: the command did not run (or the runtime failed). Not retryable as such.
                new KubeError.KubeError({
                  reason: "Unknown",
                  status: outcome.code,
                  message: outcome.message,
                  operation,
                }),
              )
        }
        default:
          return Effect.void
      }
    }

    // One fiber moves frames in order; offers suspend while a consumer is behind.
    const pump = Effect.gen(function* () {
      while (true) {
        const [frames, done] = yield* inbox.takeAll
        for (const frame of frames) yield* route(frame)
        if (ws.isPaused && Option.getOrElse(inbox.unsafeSize(), () => 0) <= inboxLow) ws.resume()
        if (done) break
      }
      if (yield* Deferred.isDone(status)) {
        yield* stdout.end
        yield* stderr.end
      } else {
        const error = broken()
        yield* stdout.fail(error)
        yield* stderr.fail(error)
        yield* Deferred.fail(status, error)
      }
    })

    const writeStdin = (input: Stream.Stream<Uint8Array>) =>
      Stream.runForEach(input, (chunk) =>
        Effect.forEach(Protocol.encodeFrames(Protocol.Channel.stdin, chunk), (frame) => send(ws, frame), {
          discard: true,
        }),
      ).pipe(
        Effect.zipRight(
          Protocol.supportsStdinClose(ws.protocol)
            ? send(ws, Protocol.closeFrame(Protocol.Channel.stdin))
            : Effect.void,
        ),
        // A send fails only when the socket is gone; the status reports why.
        Effect.catchAll(() => Effect.void),
      )

    const writeResize = (sizes: Stream.Stream<TerminalSize>) =>
      Stream.runForEach(sizes, (size) => send(ws, Protocol.resizeFrame(size))).pipe(
        Effect.catchAll(() => Effect.void),
      )

    // Whatever is still open when the scope closes ends here, so no reader waits forever.
    // (Usually nothing is: then no error is made, a cost on every exec otherwise.)
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        const open = (mailbox: Mailbox.Mailbox<Uint8Array, KubeError.KubeError>) =>
          Option.isSome(mailbox.unsafeSize())
        if ((yield* Deferred.isDone(status)) && !open(stdout) && !open(stderr)) return
        closeReason = "exec scope closed before the command's status arrived"
        const error = broken()
        yield* Deferred.fail(status, error)
        yield* stdout.fail(error)
        yield* stderr.fail(error)
      }),
    )
    yield* Effect.forkScoped(pump)
    if (options.stdin !== undefined) yield* Effect.forkScoped(writeStdin(options.stdin))
    if (tty && options.resize !== undefined) yield* Effect.forkScoped(writeResize(options.resize))

    return {
      protocol: ws.protocol,
      stdout: Mailbox.toStream(stdout),
      stderr: Mailbox.toStream(stderr),
      status: Deferred.await(status),
    } satisfies ExecProcess
  })

export interface CollectedBytes {
  readonly exitCode: number
  readonly stdout: Uint8Array
  readonly stderr: Uint8Array
}

export interface CollectedText {
  readonly exitCode: number
  readonly stdout: string
  readonly stderr: string
}

const concat = (chunks: Chunk.Chunk<Uint8Array>): Uint8Array => Buffer.concat(Chunk.toReadonlyArray(chunks))

/** Runs a short command to completion and returns all of its output (held in memory). */
export const execCollectBytes = (
  options: ExecOptions,
): Effect.Effect<CollectedBytes, KubeError.KubeError, KubeConfig> =>
  Effect.scoped(
    Effect.gen(function* () {
      const process = yield* exec(options)
      const [stdout, stderr, status] = yield* Effect.all(
        [Stream.runCollect(process.stdout), Stream.runCollect(process.stderr), process.status],
        { concurrency: "unbounded" },
      )
      return { exitCode: status.exitCode, stdout: concat(stdout), stderr: concat(stderr) }
    }),
  )

/** As execCollectBytes, with the output decoded as UTF-8. */
export const execCollect = (
  options: ExecOptions,
): Effect.Effect<CollectedText, KubeError.KubeError, KubeConfig> =>
  Effect.map(execCollectBytes(options), (result) => ({
    exitCode: result.exitCode,
    stdout: new TextDecoder().decode(result.stdout),
    stderr: new TextDecoder().decode(result.stderr),
  }))
