import { Duration, Effect, Either, Random, Stream } from "effect"

/** Exponential backoff with jitter: the delay after the n-th consecutive failure. */
export interface BackoffPolicy {
  readonly initial: Duration.Duration
  readonly max: Duration.Duration
  readonly factor: number
  /** 0 for none; 0.5 spreads each delay uniformly over ±50%. */
  readonly jitter: number
}

/** kube-rs's watcher default: 800 ms doubling up to 30 s, with jitter. */
export const defaultPolicy: BackoffPolicy = {
  initial: Duration.millis(800),
  max: Duration.seconds(30),
  factor: 2,
  jitter: 0.5,
}

/**
 * The delay before retry number `attempt` (0 for the first retry); `random` in [0, 1) picks the
 * jitter. Pure, so the policy can be tested without a clock.
 */
export const delay = (policy: BackoffPolicy, attempt: number, random: number): Duration.Duration => {
  const max = Duration.toMillis(policy.max)
  const base = Math.min(max, Duration.toMillis(policy.initial) * policy.factor ** attempt)
  const jittered = base * (1 - policy.jitter + 2 * policy.jitter * random)
  return Duration.millis(Math.round(Math.min(max, jittered)))
}

/**
 * For a stream that reports errors as values: after each error, wait the next backoff delay
 * before pulling more (the next retry); any success resets the backoff.
 */
export const withBackoff =
  (policy: BackoffPolicy = defaultPolicy) =>
  <A, E, R>(
    stream: Stream.Stream<Either.Either<A, E>, never, R>,
  ): Stream.Stream<Either.Either<A, E>, never, R> =>
    Stream.suspend(() => {
      let attempt = 0
      return Stream.tap(stream, (item) =>
        Either.isLeft(item)
          ? Effect.flatMap(Random.next, (random) => Effect.sleep(delay(policy, attempt++, random)))
          : Effect.sync(() => {
              attempt = 0
            }),
      )
    })
