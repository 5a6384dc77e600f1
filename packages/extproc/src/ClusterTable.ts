/**
 * What an extproc knows of the clusters behind Envoy, as one immutable value: each cluster's gateway,
 * its warm capacity per template, when it last reported, and pinned routes (ids minted without a
 * cluster tag). Every change is a pure function from one table to the next; RouteState holds it.
 */
import type { SandboxIdFormat } from "@agent-sandbox/domain"

export interface TemplateCapacity {
  /** The E2B templateID's pool part: `pool` or `namespace/pool`. */
  readonly template: string
  readonly warm: number
}

export interface ClusterEntry {
  readonly name: string
  /** `ip:port` where requests for this cluster enter it (Envoy's ORIGINAL_DST needs an address). */
  readonly gateway: string
  readonly capacity: ReadonlyArray<TemplateCapacity>
  /** Milliseconds since the epoch of the last registration or report; undefined: static, never stale. */
  readonly lastReport: number | undefined
}

export interface ClusterTable {
  /**
   * This extproc's own cluster, also an entry of `clusters` (its gateway: this cluster's E2B API
   * and envd, the operator's E2B port): its sandboxes never go through another Envoy.
   */
  readonly local: SandboxIdFormat.ClusterTag
  readonly clusters: ReadonlyMap<string, ClusterEntry>
  readonly routes: ReadonlyMap<string, string>
}

/** A table with this cluster (always live: this extproc runs in it) and the static others. */
export const make = (
  local: SandboxIdFormat.ClusterTag,
  localUpstream: string,
  others: ReadonlyArray<ClusterEntry> = [],
): ClusterTable => ({
  local,
  clusters: new Map([
    ...others.map((cluster) => [cluster.name, cluster] as const),
    [local, { name: local, gateway: localUpstream, capacity: [], lastReport: undefined }],
  ]),
  routes: new Map(),
})

/** Adds or replaces another cluster; this cluster's own entry is not for others to change. */
export const register = (table: ClusterTable, entry: ClusterEntry): ClusterTable =>
  entry.name === table.local ? table : { ...table, clusters: new Map(table.clusters).set(entry.name, entry) }

/** This cluster's warm capacity, from its own pools (LocalCapacity). */
export const setLocalCapacity = (
  table: ClusterTable,
  capacity: ReadonlyArray<TemplateCapacity>,
): ClusterTable => {
  const entry = table.clusters.get(table.local)
  return entry === undefined
    ? table
    : { ...table, clusters: new Map(table.clusters).set(table.local, { ...entry, capacity }) }
}

/** A report from a cluster not registered yet changes nothing (its gateway is unknown): false. */
export const reportCapacity = (
  table: ClusterTable,
  name: string,
  capacity: ReadonlyArray<TemplateCapacity>,
  now: number,
): ClusterTable | undefined => {
  const entry = table.clusters.get(name)
  return entry === undefined || name === table.local
    ? undefined
    : { ...table, clusters: new Map(table.clusters).set(name, { ...entry, capacity, lastReport: now }) }
}

export const deregister = (table: ClusterTable, name: string): ClusterTable => {
  if (name === table.local) return table
  const clusters = new Map(table.clusters)
  clusters.delete(name)
  return { ...table, clusters }
}

export const pushRoute = (table: ClusterTable, sandboxId: string, cluster: string): ClusterTable => ({
  ...table,
  routes: new Map(table.routes).set(sandboxId, cluster),
})

export const evictRoute = (table: ClusterTable, sandboxId: string): ClusterTable => {
  const routes = new Map(table.routes)
  routes.delete(sandboxId)
  return { ...table, routes }
}

/** A cluster is live while its reports are fresher than `staleAfterMillis` (static ones always). */
export const isLive = (entry: ClusterEntry, now: number, staleAfterMillis: number): boolean =>
  entry.lastReport === undefined || now - entry.lastReport <= staleAfterMillis

export const warmFor = (entry: ClusterEntry, template: string): number =>
  entry.capacity.find((c) => c.template === template)?.warm ?? 0
