import { Http } from "@agent-sandbox/testing"
import { Pools } from "@agent-sandbox/testing/operator"
import { Duration, Effect } from "effect"
import { progress } from "./Log.ts"

const prefix = "sandbox.agent-sandbox.dev/"

/**
 * A pool of `replicas` warm Pods whose sandboxes may live 10 minutes (longer than any benchmark
 * step). `maxPods` caps all its Pods: at `replicas` the pool makes no replacements while sandboxes
 * are allocated (a diagnostic that takes refill work out of the allocation's way).
 */
export const createBenchPool = (namespace: string, name: string, replicas: number, maxPods?: number) =>
  Pools.createPool(namespace, name, {
    replicas,
    ...(maxPods === undefined ? {} : { maxPods }),
    sandbox: { defaultTimeoutSeconds: 600, maxTimeoutSeconds: 3600, startupTimeoutSeconds: 60 },
  })

export interface PoolCounts {
  /** Idle and Ready, per the API server. */
  readonly idleReady: number
  /** Idle but not Ready yet. */
  readonly starting: number
  readonly allocated: number
  /** Being deleted (released sandboxes on their way out). */
  readonly terminating: number
  /** Idle per the operator (the pool status its reconciler writes from its cache). */
  readonly operatorIdle: number
}

const isReady = (conditions: ReadonlyArray<{ type: string; status: string }> | undefined) =>
  conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false

export const countPool = (namespace: string, pool: string, apiUrl: string, adminKey: string) =>
  Effect.gen(function* () {
    const pods = yield* Pools.poolPods(namespace, pool)
    let idleReady = 0
    let starting = 0
    let allocated = 0
    let terminating = 0
    for (const pod of pods.items) {
      if (pod.metadata?.deletionTimestamp !== undefined) {
        terminating++
        continue
      }
      const state = pod.metadata?.labels?.[`${prefix}state`]
      if (state === "allocated") allocated++
      else if (state === "idle" && isReady(pod.status?.conditions)) idleReady++
      else starting++
    }
    const pools = yield* Http.call(`${apiUrl}/v1/pools`, { key: adminKey })
    const summary = Array.isArray(pools.body)
      ? (pools.body as Array<{ namespace: string; name: string; idle: number }>).find(
          (p) => p.namespace === namespace && p.name === pool,
        )
      : undefined
    return {
      idleReady,
      starting,
      allocated,
      terminating,
      operatorIdle: summary?.idle ?? 0,
    } satisfies PoolCounts
  })

/**
 * Waits until the pool is full and quiet: at least `minIdle` idle Ready Pods, none starting or
 * terminating, and
 * (unless `operatorView` is false) the operator reporting as many idle (so its warm queue holds
 * them and no request will wait). A follower operator writes no pool status: then the API's
 * count alone decides.
 */
export const awaitWarm = (options: {
  readonly namespace: string
  readonly pool: string
  readonly minIdle: number
  readonly operatorView: boolean
  readonly apiUrl: string
  readonly adminKey: string
  readonly timeout: Duration.DurationInput
}) =>
  Effect.gen(function* () {
    const started = Date.now()
    const deadline = started + Duration.toMillis(Duration.decode(options.timeout))
    let lastReport = 0
    while (true) {
      const counts = yield* countPool(options.namespace, options.pool, options.apiUrl, options.adminKey)
      if (
        counts.idleReady >= options.minIdle &&
        counts.starting === 0 &&
        counts.terminating === 0 &&
        (!options.operatorView || counts.operatorIdle >= options.minIdle)
      ) {
        return counts
      }
      if (Date.now() > deadline) {
        return yield* Effect.fail(
          `pool ${options.pool} not warm within ${Duration.format(options.timeout)}: ${JSON.stringify(counts)}`,
        )
      }
      if (Date.now() - lastReport > 5_000) {
        lastReport = Date.now()
        progress(
          `pool ${options.pool}: ${counts.idleReady}/${options.minIdle} idle+Ready (${counts.starting} starting, ${counts.terminating} terminating, operator reports ${counts.operatorIdle} idle)`,
        )
      }
      yield* Effect.sleep(Duration.millis(500))
    }
  })
