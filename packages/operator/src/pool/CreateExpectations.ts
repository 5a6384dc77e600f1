/**
 * Pods a replica has asked the API server to create that its Pod watch has not shown yet, per
 * pool (controller-runtime's expectations). The reconciler counts them as warm, so a cache that
 * lags behind its own creates never over-creates. The watch lowers them as it sees each Pod, in
 * any state, even as it is deleted: a Pod that comes and goes between two reconciles must not
 * stay "on its way" (it would hold back its replacement). A create the watch never confirms
 * (lost in a relist, say) stops counting after `ttlMs`.
 */
export interface CreateExpectations {
  /** Pool key → Pod name → when the create was sent (epoch ms). */
  readonly byPool: Map<string, Map<string, number>>
}

export const defaultTtlMs = 60_000

export const make = (): CreateExpectations => ({ byPool: new Map() })

export const expect = (self: CreateExpectations, poolKey: string, name: string, at: number): void => {
  let pending = self.byPool.get(poolKey)
  if (pending === undefined) {
    pending = new Map()
    self.byPool.set(poolKey, pending)
  }
  pending.set(name, at)
}

/** The watch showed the Pod, or its create failed: it is no longer on its way. */
export const lower = (self: CreateExpectations, poolKey: string, name: string): void => {
  const pending = self.byPool.get(poolKey)
  if (pending === undefined) return
  pending.delete(name)
  if (pending.size === 0) self.byPool.delete(poolKey)
}

/** Creates still on their way (lapsed ones dropped). */
export const pending = (
  self: CreateExpectations,
  poolKey: string,
  now: number,
  ttlMs = defaultTtlMs,
): number => {
  const names = self.byPool.get(poolKey)
  if (names === undefined) return 0
  for (const [name, at] of names) if (now - at > ttlMs) names.delete(name)
  if (names.size === 0) self.byPool.delete(poolKey)
  return names.size
}

export const forget = (self: CreateExpectations, poolKey: string): void => {
  self.byPool.delete(poolKey)
}
