/**
 * This cluster's warm capacity per template, from its SandboxPools' status (LocalPools' watch):
 * each pool counts under `pool` and `namespace/pool`, the two forms an E2B templateID takes. It
 * keeps the local entry of the cluster table current, and, when peers are configured, registers
 * this cluster with their control planes on every change and at least every `reportEvery` (a
 * report is also the sign of life that keeps this cluster routable from there).
 */
import type { SandboxPool } from "@agent-sandbox/domain"
import { type Duration, Effect, Layer, Queue } from "effect"
import * as ClusterTable from "./ClusterTable.ts"
import { LocalPools } from "./LocalPools.ts"
import * as RouteControlClient from "./RouteControlClient.ts"
import { RouteState } from "./RouteState.ts"

/** Warm Pods per template key (pure). */
export const capacityOf = (
  pools: ReadonlyArray<SandboxPool>,
): ReadonlyArray<ClusterTable.TemplateCapacity> => {
  const warm = new Map<string, number>()
  for (const pool of pools) {
    const name = pool.metadata?.name
    if (name === undefined) continue
    const idle = pool.status?.idleReplicas ?? 0
    warm.set(name, (warm.get(name) ?? 0) + idle)
    warm.set(`${pool.metadata?.namespace ?? "default"}/${name}`, idle)
  }
  return [...warm]
    .map(([template, count]) => ({ template, warm: count }))
    .sort((a, b) => a.template.localeCompare(b.template))
}

export interface LocalCapacityOptions {
  /** Control planes (:9003) of the other clusters' extprocs to register with. */
  readonly peers: ReadonlyArray<string>
  /** This cluster's gateway as the others reach it (its Envoy), `host:port`. */
  readonly gateway: string | undefined
  readonly reportEvery: Duration.DurationInput
}

export const layer = (options: LocalCapacityOptions): Layer.Layer<never, never, RouteState | LocalPools> =>
  Layer.scopedDiscard(
    Effect.gen(function* () {
      const state = yield* RouteState
      const informer = yield* LocalPools
      const refresh = Effect.flatMap(informer.store.list, (pools) =>
        state.update((table) => ClusterTable.setLocalCapacity(table, capacityOf(pools))),
      )
      yield* informer.listen(() => refresh, { replay: true })
      const gateway = options.gateway
      if (options.peers.length === 0 || gateway === undefined) return
      const peers = yield* Effect.forEach(options.peers, (address) => RouteControlClient.make(address))
      const report = Effect.suspend(() => {
        const table = state.current()
        const capacity = table.clusters.get(table.local)?.capacity ?? []
        return Effect.forEach(
          peers,
          (peer) =>
            peer
              .registerCluster({ name: table.local, gateway, capacity: [...capacity] })
              .pipe(Effect.catchAll((error) => Effect.logWarning(`cross-cluster report: ${error.message}`))),
          { concurrency: "unbounded", discard: true },
        )
      })
      // A change is told at once (coalesced: one report in flight), else every `reportEvery`.
      const changed = yield* Queue.sliding<void>(1)
      yield* informer.listen(() => Queue.offer(changed, undefined))
      yield* Effect.zipRight(
        report,
        Effect.race(Queue.take(changed), Effect.sleep(options.reportEvery)),
      ).pipe(Effect.forever, Effect.forkScoped)
    }),
  )
