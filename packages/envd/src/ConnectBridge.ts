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

/** Where a pushed stream's producer hands its items (see `push`). */
export interface Sink<A> {
  /** Queues `item`; false once the client lags: the producer holds back until `Source.resume`. */
  readonly push: (item: A) => boolean
  /** The stream's end (with `error`: the call fails with it); later items are dropped. */
  readonly end: (error?: EnvdError) => void
}

/** What a pushed stream's producer gives back once it is set up. */
export interface Source {
  /** The client caught up after a `push` answered false. */
  readonly resume: () => void
  /** The call ended or the client went away: no more items. */
  readonly cancel: () => void
}

export interface ConnectBridge<R> {
  readonly unary: <A>(context: HandlerContext, program: Effect.Effect<A, EnvdError, R>) => Promise<A>
  readonly stream: <A>(
    context: HandlerContext,
    program: Stream.Stream<A, EnvdError, R>,
    keepAlive?: KeepAlive<A>,
  ) => AsyncIterable<A>
  /**
   * A server stream whose items come from plain callbacks: `open` runs once (one short Effect)
   * and hands `sink` to the producer, which pushes from then on, with no fiber, queue or stream
   * per call beyond that. For what runs per command (process.Start).
   */
  readonly push: <A>(
    context: HandlerContext,
    open: (sink: Sink<A>) => Effect.Effect<Source, EnvdError, R>,
    keepAlive?: KeepAlive<A>,
  ) => AsyncIterable<A>
}

/**
 * The items of one call waiting for Connect to read them, and the call's end: the reader side
 * both kinds of stream share. `drained` is called when the reader takes the queue back under
 * `maxBuffered` after it was full.
 */
const makeOutbox = <A, R>(
  runtime: Runtime.Runtime<R>,
  context: HandlerContext,
  keepAlive: KeepAlive<A> | undefined,
  stop: () => void,
) => {
  const items: Array<A> = []
  let ended: Exit.Exit<void, EnvdError> | undefined
  let wakeReader: (() => void) | undefined
  let drained: (() => void) | undefined
  const wake = () => {
    const waiting = wakeReader
    wakeReader = undefined
    waiting?.()
  }
  const signal = context.signal
  if (signal.aborted) queueMicrotask(stop)
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
  const next = async (): Promise<IteratorResult<A>> => {
    for (;;) {
      if (items.length > 0) {
        const value = items.shift() as A
        if (items.length < maxBuffered && drained !== undefined) {
          const writer = drained
          drained = undefined
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
    /** Queues `item`; false when the queue is full (`onDrained` then says when it is not). */
    offer: (item: A): boolean => {
      if (ended !== undefined) return true
      items.push(item)
      wake()
      return items.length < maxBuffered
    },
    onDrained: (f: () => void) => {
      drained = f
    },
    isEnded: () => ended !== undefined,
    end: (exit: Exit.Exit<void, EnvdError>) => {
      if (ended !== undefined) return
      clearInterval(timer)
      signal.removeEventListener("abort", stop)
      ended = exit
      wake()
    },
    iterator: {
      next,
      return: async () => {
        stop()
        return { done: true, value: undefined }
      },
    } satisfies AsyncIterator<A>,
  }
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
  const stop = () => fiber.unsafeInterruptAsFork(FiberId.none)
  const outbox = makeOutbox(runtime, context, keepAlive, stop)
  const fiber = Runtime.runFork(runtime)(
    Stream.runForEachChunk(program, (chunk) =>
      Effect.async<void>((resume) => {
        let room = true
        for (const item of chunk) room = outbox.offer(item)
        if (room) return resume(Effect.void)
        outbox.onDrained(() => resume(Effect.void))
      }),
    ),
  )
  fiber.addObserver(outbox.end)
  return outbox.iterator
}

/**
 * `open` in one fiber, then the producer's pushes straight into the outbox. The client's abort
 * or the iterator's return interrupts `open` if it still runs, else cancels the source.
 */
const pushed = <A, R>(
  runtime: Runtime.Runtime<R>,
  context: HandlerContext,
  open: (sink: Sink<A>) => Effect.Effect<Source, EnvdError, R>,
  keepAlive: KeepAlive<A> | undefined,
): AsyncIterator<A> => {
  let source: Source | undefined
  let waitingToResume = false
  const stop = () => {
    if (outbox.isEnded()) return
    if (source !== undefined) {
      source.cancel()
      outbox.end(Exit.interrupt(FiberId.none))
    } else fiber.unsafeInterruptAsFork(FiberId.none)
  }
  const outbox = makeOutbox(runtime, context, keepAlive, stop)
  const resume = () => {
    if (source === undefined) waitingToResume = true
    else source.resume()
  }
  const sink: Sink<A> = {
    push: (item) => {
      const room = outbox.offer(item)
      if (!room) outbox.onDrained(resume)
      return room
    },
    end: (error) => outbox.end(error === undefined ? Exit.void : Exit.fail(error)),
  }
  const fiber = Runtime.runFork(runtime)(open(sink))
  fiber.addObserver((exit) => {
    if (Exit.isFailure(exit)) return outbox.end(Exit.asVoid(exit))
    source = exit.value
    // The call may have ended (or the client caught up) while `open` was finishing.
    if (outbox.isEnded()) source.cancel()
    else if (waitingToResume) source.resume()
  })
  return outbox.iterator
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
  push: (context, open, keepAlive) => ({
    [Symbol.asyncIterator]: () => pushed(runtime, context, open, keepAlive),
  }),
})
