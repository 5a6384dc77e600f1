/**
 * Where a new sandbox goes (pure): the live cluster with the most warm Pods of its template; on a
 * tie (none warm anywhere too) a cluster that has a pool for the template at all, then this
 * cluster, whose pool scales up while the caller waits in its line, else the first by name. None when no cluster is live. The table holds this cluster too.
 */
import * as ClusterTable from "./ClusterTable.ts"

export const place = (
  table: ClusterTable.ClusterTable,
  template: string | undefined,
  now: number,
  staleAfterMillis: number,
): string | undefined => {
  let best: { readonly name: string; readonly warm: number; readonly has: boolean } | undefined
  for (const cluster of table.clusters.values()) {
    if (!ClusterTable.isLive(cluster, now, staleAfterMillis)) continue
    const warm = warmOf(cluster, template)
    const has = template === undefined || cluster.capacity.some((c) => c.template === template)
    const tie = best !== undefined && warm === best.warm && has === best.has
    const better =
      best === undefined ||
      warm > best.warm ||
      (warm === best.warm && has && !best.has) ||
      (tie && cluster.name === table.local) ||
      (tie && best?.name !== table.local && cluster.name < (best?.name ?? ""))
    if (better) best = { name: cluster.name, warm, has }
  }
  return best?.name
}

const warmOf = (cluster: ClusterTable.ClusterEntry, template: string | undefined): number =>
  template === undefined
    ? cluster.capacity.reduce((sum, c) => sum + c.warm, 0)
    : ClusterTable.warmFor(cluster, template)

/** The pool part of an E2B templateID (`pool`, `namespace/pool`; a `:runtime` tag dropped). */
export const templateOf = (templateId: string): string => templateId.split(":", 1)[0] ?? templateId

/** The templateID of a create's JSON body; undefined when it has none or is not JSON. */
export const templateFromBody = (body: Uint8Array): string | undefined => {
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(body))
    if (typeof parsed === "object" && parsed !== null && "templateID" in parsed) {
      const value = (parsed as { templateID: unknown }).templateID
      return typeof value === "string" ? templateOf(value) : undefined
    }
    return undefined
  } catch {
    return undefined
  }
}
