import { Duration, Effect, Schedule, Stream } from "effect"

/** envd's default when the client does not ask for an interval. */
const defaultInterval = Duration.seconds(90)

/** The `Keepalive-Ping-Interval` request header (seconds), as envd reads it. */
export const intervalFromHeader = (value: string | null): Duration.Duration => {
  const seconds = value === null ? Number.NaN : Number(value)
  return Number.isSafeInteger(seconds) && seconds > 0 ? Duration.seconds(seconds) : defaultInterval
}

/** `events`, with `keepalive` interleaved every `interval`; ends with `events`. */
export const withKeepAlive = <A, E, R>(
  events: Stream.Stream<A, E, R>,
  keepalive: A,
  interval: Duration.Duration,
): Stream.Stream<A, E, R> =>
  Stream.merge(
    events,
    Stream.repeatEffectWithSchedule(Effect.succeed(keepalive), Schedule.spaced(interval)).pipe(
      Stream.drop(1),
    ),
    { haltStrategy: "left" },
  )
