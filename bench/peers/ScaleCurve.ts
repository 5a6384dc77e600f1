/**
 * What the operator's claim costs as the number of warm Pods it watches grows, and how long a
 * restarted operator takes to serve again: the pool is grown to each size (the operator creates the
 * Pods itself), claims are timed at c=16 with the operator's CPU per claim, its RSS is sampled, then
 * it is replaced by a fresh process (one initial list of every Pod, as after a restart), timed from
 * spawn to its first served claim.
 */
import { KubeClient, Patch } from "@agent-sandbox/kube"
import { SandboxResources } from "@agent-sandbox/operator"
import { Duration, Effect, Exit, Scope } from "effect"
import { Pool } from "undici"
import { type AllocationTarget, allocate, release } from "../allocation/AllocationLoad.ts"
import type { LoadResult } from "../support/LoadLoop.ts"
import { progress } from "../support/Log.ts"
import type { RunningOperator } from "../support/OperatorProcess.ts"
import { cpuMillis, type Memory, memory } from "../support/ProcessStats.ts"
import { awaitOurPool } from "./PoolFull.ts"

export interface ScalePoint {
  readonly pods: number
  /** Seconds the operator took to grow the pool to `pods` idle Pods. */
  readonly fillSeconds: number
  readonly claims: LoadResult
  /** The operator's CPU milliseconds per claim during the timed claims. */
  readonly operatorCpuPerClaim: number
  readonly rssFilled: Memory | undefined
  /** Spawn → readyz answers 200. */
  readonly restartReadyMillis: number
  /** Spawn → the first POST /v1/sandboxes answered 201. */
  readonly restartFirstClaimMillis: number
  readonly rssRestarted: Memory | undefined
}

/** An operator process that can be replaced: its own scope, closed to stop it. */
export interface OperatorSlot {
  readonly operator: RunningOperator
  readonly scope: Scope.CloseableScope
}

export const startInSlot = <E, R>(start: Effect.Effect<RunningOperator, E, R | Scope.Scope>) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const operator = yield* Effect.onError(Scope.extend(start, scope), () => Scope.close(scope, Exit.void))
    return { operator, scope } satisfies OperatorSlot
  })

export const stopSlot = (slot: OperatorSlot) => Scope.close(slot.scope, Exit.void)

/** POST /v1/sandboxes until one is answered 201 (connection refused and 5xx while it starts). */
const firstClaim = (apiUrl: string, key: string, pool: string) =>
  Effect.promise(async () => {
    const client = new Pool(apiUrl, { connections: 1 })
    try {
      for (;;) {
        try {
          const response = await client.request({
            method: "POST",
            path: "/v1/sandboxes",
            headers: { "x-api-key": key, "content-type": "application/json" },
            body: JSON.stringify({ pool, timeoutSeconds: 600 }),
          })
          const text = await response.body.text()
          if (response.statusCode === 201)
            return { at: performance.now(), id: (JSON.parse(text) as { id: string }).id }
        } catch {
          // Not listening yet.
        }
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    } finally {
      await client.close()
    }
  })

export interface ScaleContext {
  readonly namespace: string
  readonly pool: string
  readonly key: string
  readonly claims: number
  /** Starts a fresh operator on the given ports (API, probe), in the caller's scope. */
  readonly startOperator: (
    ports: readonly [number, number],
  ) => Effect.Effect<RunningOperator, unknown, Scope.Scope>
  readonly freePorts: Effect.Effect<readonly [number, number], unknown>
}

/** One point: grow to `pods`, time claims, sample RSS, then restart the operator (returned). */
export const measurePoint = (context: ScaleContext, slot: OperatorSlot, pods: number) =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    const { namespace, pool, key } = context
    progress(`scale: growing the pool to ${pods} warm Pods`)
    const fill0 = performance.now()
    yield* client.patch(
      SandboxResources.SandboxPoolResource,
      pool,
      Patch.merge({ spec: { replicas: pods } }),
      {
        namespace,
      },
    )
    yield* awaitOurPool(namespace, pool, pods, Duration.minutes(30))
    const fillSeconds = (performance.now() - fill0) / 1000
    yield* Effect.sleep("2 seconds")
    const rssFilled = memory(slot.operator.pid!)

    const target: AllocationTarget = { apiUrl: slot.operator.apiUrl, key, pool }
    // Untimed warm-up on this process, then the timed claims.
    const warm = yield* allocate(target, { count: 16, concurrency: 16, timeLimit: Duration.minutes(2) })
    yield* release(target, warm.sandboxIds, 16)
    yield* awaitOurPool(namespace, pool, pods, Duration.minutes(10))
    progress(`scale ${pods}: ${context.claims} claims at c=16`)
    const cpu0 = cpuMillis(slot.operator.pid!) ?? Number.NaN
    const claimed = yield* allocate(target, {
      count: context.claims,
      concurrency: 16,
      timeLimit: Duration.minutes(2),
    })
    const operatorCpu = (cpuMillis(slot.operator.pid!) ?? Number.NaN) - cpu0
    yield* release(target, claimed.sandboxIds, 16)
    yield* awaitOurPool(namespace, pool, pods, Duration.minutes(10))

    progress(`scale ${pods}: restarting the operator`)
    yield* stopSlot(slot)
    const ports = yield* context.freePorts
    const apiUrl = `http://127.0.0.1:${ports[0]}`
    const t0 = performance.now()
    const [next, first] = yield* Effect.all(
      [
        Effect.flatMap(startInSlot(context.startOperator(ports)), (s) =>
          Effect.map(
            Effect.sync(() => performance.now()),
            (readyAt) => ({ slot: s, readyAt }),
          ),
        ),
        firstClaim(apiUrl, key, pool),
      ],
      { concurrency: "unbounded" },
    )
    yield* release({ apiUrl, key, pool }, [first.id], 1)
    yield* awaitOurPool(namespace, pool, pods, Duration.minutes(10))
    yield* Effect.sleep("2 seconds")
    const point: ScalePoint = {
      pods,
      fillSeconds,
      claims: claimed.result,
      operatorCpuPerClaim: operatorCpu / Math.max(1, claimed.result.latencies.length),
      rssFilled,
      restartReadyMillis: next.readyAt - t0,
      restartFirstClaimMillis: first.at - t0,
      rssRestarted: memory(next.slot.operator.pid!),
    }
    return { point, slot: next.slot }
  })
