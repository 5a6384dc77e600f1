/**
 * Runs the Effect programs behind the Connect handlers: a unary call is a promise, a server
 * stream an async iterable. The client's abort (or the call's deadline) interrupts the
 * program; envd errors become Connect errors with their code.
 */
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect"
import { Cause, Duration, Effect, Exit, FiberId, Runtime, Stream } from "effect"
import { type EnvdError, toConnectError } from "./EnvdError.ts"

/** Items a stream may run ahead of the client's reading before it is paused. */
const maxBuffered = 64

const fromCause = (cause: Cause.Cause<EnvdError>, signal: AbortSignal): ConnectError => {
  const failure = Cause.failureOption(cause)
  if (failure._tag === "Some") return toConnectError(failure.value)
  if (Cause.isInterruptedOnly(cause)) {
    return signal.reason instanceof ConnectError
      ? signal.reason
      : new ConnectError("the request was canceled", Code.Canceled)
  }
  return new ConnectError("internal error", Code.Internal)
}

/** Defects are bugs: they are logged (the client only learns "internal error"). */
const logDefect = <R>(
  runtime: Runtime.Runtime<R>,
  cause: Cause.Cause<EnvdError>,
  context: HandlerContext,
) => {
  if (Cause.isInterruptedOnly(cause) || Cause.failureOption(cause)._tag === "Some") return
  Runtime.runFork(runtime)(
    Effect.logError(`envd ${context.service.typeName}/${context.method.name} failed`, Cause.pretty(cause)),
  )
}

/** An item sent every `interval` while the stream is quiet (envd's keepalive events). */
export interface KeepAlive<A> {
  readonly item: A
  readonly interval: Duration.Duration
}

export interface ConnectBridge<R> {
  readonly unary: <A>(context: HandlerContext, program: Effect.Effect<A, EnvdError, R>) => Promise<A>
  readonly stream: <A>(
    context: HandlerContext,
    program: Stream.Stream<A, EnvdError, R>,
    keepAlive?: KeepAlive<A>,
  ) => AsyncIterable<A>
}

/**
 * One fiber runs the whole stream and hands its items over in plain JS (not an Effect run per
 * item, nor a fiber watching the abort signal): per command that is most of what a short stream
 * of events costs. The client's abort or the iterator's return interrupts the fiber.
 */
const iterate = <A, R>(
  runtime: Runtime.Runtime<R>,
  context: HandlerContext,
  program: Stream.Stream<A, EnvdError, R>,
  keepAlive: KeepAlive<A> | undefined,
): AsyncIterator<A> => {
  const items: Array<A> = []
  let ended: Exit.Exit<void, EnvdError> | undefined
  let wakeReader: (() => void) | undefined
  let wakeWriter: (() => void) | undefined
  const wake = () => {
    const waiting = wakeReader
    wakeReader = undefined
    waiting?.()
  }
  const fiber = Runtime.runFork(runtime)(
    Stream.runForEachChunk(program, (chunk) =>
      Effect.async<void>((resume) => {
        for (const item of chunk) items.push(item)
        wake()
        if (items.length < maxBuffered) return resume(Effect.void)
        wakeWriter = () => resume(Effect.void)
      }),
    ),
  )
  const stop = () => fiber.unsafeInterruptAsFork(FiberId.none)
  const signal = context.signal
  if (signal.aborted) stop()
  else signal.addEventListener("abort", stop, { once: true })
  // A timer, not a fiber: the keepalive goes out only while nothing else waits to be read.
  const timer =
    keepAlive === undefined
      ? undefined
      : setInterval(() => {
          if (items.length > 0) return
          items.push(keepAlive.item)
          wake()
        }, Duration.toMillis(keepAlive.interval))
  fiber.addObserver((exit) => {
    clearInterval(timer)
    signal.removeEventListener("abort", stop)
    ended = exit
    wake()
  })
  const next = async (): Promise<IteratorResult<A>> => {
    for (;;) {
      if (items.length > 0) {
        const value = items.shift() as A
        if (items.length < maxBuffered && wakeWriter !== undefined) {
          const writer = wakeWriter
          wakeWriter = undefined
          writer()
        }
        return { done: false, value }
      }
      if (ended !== undefined) {
        if (Exit.isSuccess(ended)) return { done: true, value: undefined }
        logDefect(runtime, ended.cause, context)
        throw fromCause(ended.cause, signal)
      }
      await new Promise<void>((resolve) => {
        wakeReader = resolve
      })
    }
  }
  return {
    next,
    return: async () => {
      stop()
      return { done: true, value: undefined }
    },
  }
}

export const make = <R>(runtime: Runtime.Runtime<R>): ConnectBridge<R> => ({
  unary: async (context, program) => {
    const exit = await Runtime.runPromiseExit(runtime)(program, { signal: context.signal })
    if (Exit.isSuccess(exit)) return exit.value
    logDefect(runtime, exit.cause, context)
    throw fromCause(exit.cause, context.signal)
  },
  stream: (context, program, keepAlive) => ({
    [Symbol.asyncIterator]: () => iterate(runtime, context, program, keepAlive),
  }),
})
