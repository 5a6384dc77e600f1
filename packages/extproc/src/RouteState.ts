/**
 * The extproc's live state: the cluster table (changed by the route control plane, the static
 * config and this cluster's own pools) and when each sandbox was last reached through it. Reads on
 * the request path are synchronous: a routing decision waits on nothing.
 */
import { Context, Effect, Layer } from "effect"
import type * as ClusterTable from "./ClusterTable.ts"

export interface Activity {
  readonly sandboxId: string
  readonly cluster: string
  readonly lastRequest: number
}

export interface RouteStateShape {
  readonly current: () => ClusterTable.ClusterTable
  readonly update: (
    change: (table: ClusterTable.ClusterTable) => ClusterTable.ClusterTable,
  ) => Effect.Effect<void>
  /** Synchronous, on the request path. */
  readonly touch: (sandboxId: string, cluster: string, now: number) => void
  /** Every sandbox seen when `ids` is empty. */
  readonly activity: (ids: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<Activity>>
}

export class RouteState extends Context.Tag("@agent-sandbox/extproc/RouteState")<
  RouteState,
  RouteStateShape
>() {}

export interface RouteStateOptions {
  readonly initial: ClusterTable.ClusterTable
  /** Sandboxes whose activity is kept; the least recently seen is dropped beyond it. */
  readonly maxActivity: number
}

export const make = (options: RouteStateOptions): RouteStateShape => {
  let table = options.initial
  // Insertion order is recency order: a touched id is moved to the end.
  const seen = new Map<string, Activity>()
  return {
    current: () => table,
    update: (change) =>
      Effect.sync(() => {
        table = change(table)
      }),
    touch: (sandboxId, cluster, now) => {
      seen.delete(sandboxId)
      seen.set(sandboxId, { sandboxId, cluster, lastRequest: now })
      if (seen.size > options.maxActivity) {
        const oldest = seen.keys().next()
        if (oldest.done !== true) seen.delete(oldest.value)
      }
    },
    activity: (ids) =>
      Effect.sync(() =>
        ids.length === 0
          ? [...seen.values()]
          : ids.flatMap((id) => {
              const entry = seen.get(id)
              return entry === undefined ? [] : [entry]
            }),
      ),
  }
}

export const layer = (options: RouteStateOptions) => Layer.sync(RouteState, () => make(options))
