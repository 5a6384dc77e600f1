import { createHash } from "node:crypto"
import { ApiGroup } from "@agent-sandbox/domain"

/**
 * Callers wait on the replica they asked, but only the leader reconciles. So each replica
 * publishes how many callers wait for a pool as one annotation on that pool, keyed by replica;
 * the leader adds the other replicas' counts to its own. Each entry carries its own expiry: a
 * replica that dies with callers waiting stops counting once its entry lapses (replicas refresh
 * theirs well before). Clocks of replicas are assumed to agree to within a few seconds.
 */
const keyPrefix = `${ApiGroup.keyPrefix}waiting-`

/** The replica's annotation key; a replica id that is no valid key name part is hashed. */
export const annotationKey = (replicaId: string): string => {
  const valid = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,45}[A-Za-z0-9])?$/.test(replicaId)
  return `${keyPrefix}${valid ? replicaId : createHash("sha256").update(replicaId).digest("hex").slice(0, 16)}`
}

export interface Demand {
  readonly waiting: number
  /** Epoch ms after which the entry no longer counts. */
  readonly until: number
}

export const encode = (demand: Demand): string =>
  JSON.stringify({ waiting: demand.waiting, until: new Date(demand.until).toISOString() })

export const decode = (value: string): Demand | undefined => {
  try {
    const parsed: unknown = JSON.parse(value)
    if (parsed === null || typeof parsed !== "object") return undefined
    const { waiting, until } = parsed as { waiting?: unknown; until?: unknown }
    const untilMs = typeof until === "string" ? Date.parse(until) : Number.NaN
    return typeof waiting === "number" && Number.isInteger(waiting) && waiting >= 0 && !Number.isNaN(untilMs)
      ? { waiting, until: untilMs }
      : undefined
  } catch {
    return undefined
  }
}

/**
 * The callers other replicas report waiting for a pool, from its annotations, and when the
 * soonest of those reports lapses (the leader looks again then).
 */
export const othersWaiting = (
  annotations: Readonly<Record<string, string>> | undefined,
  selfKey: string,
  now: number,
): { readonly waiting: number; readonly lapsesAt: number | undefined } => {
  let waiting = 0
  let lapsesAt: number | undefined
  for (const [key, value] of Object.entries(annotations ?? {})) {
    if (!key.startsWith(keyPrefix) || key === selfKey) continue
    const demand = decode(value)
    if (demand === undefined || demand.until <= now || demand.waiting === 0) continue
    waiting += demand.waiting
    lapsesAt = lapsesAt === undefined ? demand.until : Math.min(lapsesAt, demand.until)
  }
  return { waiting, lapsesAt }
}

export interface Published {
  readonly waiting: number
  readonly until: number
}

/**
 * Whether a replica should write its count now: it changed, or a non-zero report is past half
 * its life (refresh it before the leader stops counting it).
 */
export const shouldPublish = (
  waiting: number,
  published: Published | undefined,
  now: number,
  ttlMs: number,
): boolean => {
  if (published === undefined) return waiting > 0
  if (published.waiting !== waiting) return true
  return waiting > 0 && published.until - now < ttlMs / 2
}

/** The merge patch that records (or, at zero, removes) this replica's count on the pool. */
export const patch = (key: string, waiting: number, until: number): object => ({
  metadata: { annotations: { [key]: waiting === 0 ? null : encode({ waiting, until }) } },
})
