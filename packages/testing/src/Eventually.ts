import { Duration, Effect, Schedule } from "effect"

/**
 * Retries an assertion until it passes, every `interval` (default 100 ms), for at most `timeout` (default
 * 30 s); then fails with its last error. For state the cluster reaches asynchronously: poll, never sleep.
 */
export const eventually = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  options: { readonly timeout?: Duration.DurationInput; readonly interval?: Duration.DurationInput } = {},
): Effect.Effect<A, E, R> =>
  effect.pipe(
    Effect.retry(
      Schedule.spaced(options.interval ?? Duration.millis(100)).pipe(
        Schedule.upTo(options.timeout ?? Duration.seconds(30)),
      ),
    ),
  )
