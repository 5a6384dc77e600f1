import { Duration, Effect } from "effect"

export interface LoadOptions {
  /** Operations in all; each index 0..count-1 is run once. */
  readonly count: number
  /** Workers running operations back to back (a closed loop: each waits for its answer). */
  readonly concurrency: number
  /** No operation starts after this; what is left is reported as not attempted. */
  readonly timeLimit: Duration.DurationInput
}

export interface LoadResult {
  /** Milliseconds of each successful operation, as its caller waited for it. */
  readonly latencies: ReadonlyArray<number>
  /** Failed operations by reason. */
  readonly failures: ReadonlyMap<string, number>
  readonly attempted: number
  /** Wall time from the first start to the last answer. */
  readonly seconds: number
}

export const succeeded = (result: LoadResult): number => result.latencies.length

export const perSecond = (result: LoadResult): number =>
  result.seconds > 0 ? result.latencies.length / result.seconds : Number.NaN

export const failureText = (result: LoadResult): string =>
  result.failures.size === 0 && result.attempted === result.latencies.length
    ? "none"
    : [...result.failures].map(([reason, n]) => `${n}× ${reason}`).join(", ") || "not all attempted"

/**
 * Runs `operation(i)` for i in 0..count-1 over `concurrency` closed-loop workers, timing each one.
 * An operation fails with a short reason (e.g. "HTTP 503"); failures are counted, not retried.
 */
export const runLoad = <R>(
  options: LoadOptions,
  operation: (index: number) => Effect.Effect<void, string, R>,
): Effect.Effect<LoadResult, never, R> =>
  Effect.gen(function* () {
    const latencies: Array<number> = []
    const failures = new Map<string, number>()
    let next = 0
    const started = performance.now()
    const stopAt = started + Duration.toMillis(Duration.decode(options.timeLimit))
    const worker = Effect.gen(function* () {
      while (next < options.count && performance.now() < stopAt) {
        const index = next++
        const t0 = performance.now()
        const exit = yield* Effect.either(operation(index))
        const elapsed = performance.now() - t0
        if (exit._tag === "Right") latencies.push(elapsed)
        else failures.set(exit.left, (failures.get(exit.left) ?? 0) + 1)
      }
    })
    yield* Effect.all(
      Array.from({ length: options.concurrency }, () => worker),
      { concurrency: "unbounded", discard: true },
    )
    return {
      latencies,
      failures,
      attempted: next,
      seconds: (performance.now() - started) / 1000,
    }
  })

/** Several runs of one kind as one: latencies pooled, failures and attempts summed, wall times added. */
export const mergeLoads = (results: ReadonlyArray<LoadResult>): LoadResult => {
  const failures = new Map<string, number>()
  for (const r of results)
    for (const [reason, n] of r.failures) failures.set(reason, (failures.get(reason) ?? 0) + n)
  return {
    latencies: results.flatMap((r) => r.latencies),
    failures,
    attempted: results.reduce((n, r) => n + r.attempted, 0),
    seconds: results.reduce((n, r) => n + r.seconds, 0),
  }
}
