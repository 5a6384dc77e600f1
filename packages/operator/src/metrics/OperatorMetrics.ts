/**
 * The operator's Prometheus instruments (prom-client), in one registry the server exposes on
 * :8082 (packages/server/src/metrics). Event counts and latencies are recorded where they happen
 * (one line at each call site); per-pool state is read when scraped
 * (packages/server/src/metrics/MetricsServer.ts). Labels stay bounded: namespace and pool, never a
 * sandbox id or Pod name.
 */
import { Cause, Effect, Either, Exit, Stream } from "effect"
import { Counter, type CounterConfiguration, Histogram, type LabelValues, Registry } from "prom-client"

export const registry = new Registry()

let recording = true

/**
 * AGENT_SANDBOX_METRICS=off, set once at the process's edge: nothing is recorded from then on
 * (the baseline bench:metrics compares with). Process-wide, like the instruments themselves.
 */
export const stopRecording = (): void => {
  recording = false
}

export const isRecording = (): boolean => recording

/** A counter whose increments are skipped when recording is off. */
const counter = <L extends string>(config: CounterConfiguration<L>) => {
  const instrument = new Counter(config)
  return { inc: (labels: LabelValues<L> = {}) => (recording ? instrument.inc(labels) : undefined) }
}

/** 0.5 ms … 10 s: a warm claim takes milliseconds, an in-place image swap or a wait seconds. */
export const latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export const allocationDuration = new Histogram({
  name: "agent_sandbox_allocation_duration_seconds",
  help: "Time from an allocation request to its answer, by outcome (allocated, capacity_unavailable = 503, too_many_waiting = 429, ...).",
  labelNames: ["namespace", "pool", "outcome"] as const,
  buckets: latencyBuckets,
  registers: [registry],
})

export const claimConflicts = counter({
  name: "agent_sandbox_claim_conflicts_total",
  help: "Claims that lost the race for a Pod (409 Conflict or the Pod gone): the next Pod was taken.",
  labelNames: ["namespace", "pool"] as const,
  registers: [registry],
})

export const releases = counter({
  name: "agent_sandbox_releases_total",
  help: "Sandboxes released by their callers.",
  labelNames: ["namespace", "pool"] as const,
  registers: [registry],
})

export const sandboxEnds = counter({
  name: "agent_sandbox_sandbox_ends_total",
  help: "Sandboxes ended (released or expired), by result: recycled in place, deleted, already gone, error; scrub_failed: a Pod recycled in place deleted after all because its node agent did not clear its Pod-level state.",
  labelNames: ["namespace", "result"] as const,
  registers: [registry],
})

export const expiries = counter({
  name: "agent_sandbox_expiries_total",
  help: "Sandboxes ended by the reconciler, by reason: Expired (timeout reached) or StartupTimeout (its image never became ready).",
  labelNames: ["namespace", "pool", "reason"] as const,
  registers: [registry],
})

export const reconcileDuration = new Histogram({
  name: "agent_sandbox_reconcile_duration_seconds",
  help: "Duration of one pool reconcile on the leader.",
  labelNames: ["result"] as const,
  buckets: latencyBuckets,
  registers: [registry],
})

export const reconcileErrors = counter({
  name: "agent_sandbox_reconcile_errors_total",
  help: "Pool reconciles that failed (retried with backoff).",
  registers: [registry],
})

export const inPlaceUpdates = counter({
  name: "agent_sandbox_inplace_updates_total",
  help: "In-place image updates of idle Pods (a new template revision), by result.",
  labelNames: ["namespace", "pool", "result"] as const,
  registers: [registry],
})

export const watchRelists = counter({
  name: "agent_sandbox_watch_relists_total",
  help: "Full lists of a watched resource: the first, and each after the watch lost its place (410 Gone).",
  labelNames: ["resource"] as const,
  registers: [registry],
})

export const watchRestarts = counter({
  name: "agent_sandbox_watch_restarts_total",
  help: "Watches (or their lists) that failed and were started again, by reason (Gone: relisted at once; others after a backoff).",
  labelNames: ["resource", "reason"] as const,
  registers: [registry],
})

/** snake_case of an error's tag: CapacityUnavailable → capacity_unavailable. */
const outcomeOf = <A, E>(exit: Exit.Exit<A, E>): string => {
  if (Exit.isSuccess(exit)) return "allocated"
  if (Cause.isInterruptedOnly(exit.cause)) return "abandoned"
  const failure = Cause.failureOption(exit.cause)
  const tag =
    failure._tag === "Some" &&
    typeof failure.value === "object" &&
    failure.value !== null &&
    "_tag" in failure.value
      ? String(failure.value._tag)
      : "error"
  return tag.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase()
}

/** Times an allocation and records its outcome. */
export const timeAllocation = <A, E, R>(
  request: { readonly namespace: string; readonly pool: string },
  effect: Effect.Effect<A, E, R>,
): Effect.Effect<A, E, R> =>
  Effect.suspend(() => {
    if (!recording) return effect
    const start = performance.now()
    return Effect.onExit(effect, (exit) =>
      Effect.sync(() =>
        allocationDuration.observe(
          { namespace: request.namespace, pool: request.pool, outcome: outcomeOf(exit) },
          (performance.now() - start) / 1000,
        ),
      ),
    )
  })

/** Times a reconcile; a failure also counts as an error. */
export const timeReconcile = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.suspend(() => {
    if (!recording) return effect
    const start = performance.now()
    return Effect.onExit(effect, (exit) =>
      Effect.sync(() => {
        const result = Exit.isSuccess(exit) ? "ok" : "error"
        if (result === "error") reconcileErrors.inc()
        reconcileDuration.observe({ result }, (performance.now() - start) / 1000)
      }),
    )
  })

/** Counts the errors of a watcher's results (Watcher.watcherResults): each restarts the watch. */
export const countWatchRestarts =
  (resource: string) =>
  <A, E extends { readonly reason: string }, R>(
    results: Stream.Stream<Either.Either<A, E>, never, R>,
  ): Stream.Stream<Either.Either<A, E>, never, R> =>
    // Per chunk, not an Effect per event: a watch event passes here on every claim.
    Stream.mapChunks(results, (chunk) => {
      for (const result of chunk) {
        if (Either.isLeft(result)) watchRestarts.inc({ resource, reason: result.left.reason })
      }
      return chunk
    })

/** Counts the Init events of a watcher's stream: each is a full list. */
export const countRelists =
  (resource: string) =>
  <A extends { readonly _tag: string }, E, R>(stream: Stream.Stream<A, E, R>): Stream.Stream<A, E, R> =>
    Stream.mapChunks(stream, (chunk) => {
      for (const event of chunk) if (event._tag === "Init") watchRelists.inc({ resource })
      return chunk
    })
