/**
 * Runs the Effect programs behind the Connect handlers: a unary call is a promise, a server
 * stream an async iterable. The client's abort (or the call's deadline) interrupts the
 * program; envd errors become Connect errors with their code.
 */
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect"
import { Cause, Effect, Exit, Runtime, Stream } from "effect"
import { type EnvdError, toConnectError } from "./EnvdError.ts"

const aborted = (signal: AbortSignal): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    if (signal.aborted) return resume(Effect.void)
    const onAbort = () => resume(Effect.void)
    signal.addEventListener("abort", onAbort, { once: true })
    return Effect.sync(() => signal.removeEventListener("abort", onAbort))
  })

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

export interface ConnectBridge<R> {
  readonly unary: <A>(context: HandlerContext, program: Effect.Effect<A, EnvdError, R>) => Promise<A>
  readonly stream: <A>(context: HandlerContext, program: Stream.Stream<A, EnvdError, R>) => AsyncIterable<A>
}

export const make = <R>(runtime: Runtime.Runtime<R>): ConnectBridge<R> => ({
  unary: async (context, program) => {
    const exit = await Runtime.runPromiseExit(runtime)(program, { signal: context.signal })
    if (Exit.isSuccess(exit)) return exit.value
    logDefect(runtime, exit.cause, context)
    throw fromCause(exit.cause, context.signal)
  },
  stream: (context, program) =>
    Stream.toAsyncIterableRuntime(
      program.pipe(
        Stream.interruptWhen(aborted(context.signal)),
        Stream.catchAllCause((cause) => {
          logDefect(runtime, cause, context)
          return Stream.fail(fromCause(cause, context.signal))
        }),
      ),
      runtime,
    ),
})
