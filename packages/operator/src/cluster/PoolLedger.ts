/**
 * Each pool's Pods, sorted the way the pool reconciler and the release path read them, kept one
 * Pod event at a time (O(1) each, O(log n) for an expiry). Most of a pool's Pods are "plain": idle
 * and Ready with nothing under way, or allocated with nothing under way. Those are known by count
 * per revision (and allocated ones by expiry); only the others ("notable": starting, restarting,
 * failed, deleting) are named one by one. So a claim, one plain idle Pod turning plain allocated,
 * costs the reconcile it triggers a few counters, not a walk of every Pod of the pool.
 *
 * Mutable on purpose, like CreateExpectations: it is written only by the Pod informer's listener,
 * in the step that applies each event, and read synchronously.
 */
import { Order, SortedMap } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"
import * as PodOwner from "../sandbox/PodOwner.ts"
import * as SandboxPod from "../sandbox/SandboxPod.ts"

/** How one Pod counts in its pool. */
export type Kind = "plainIdle" | "plainAllocated" | "notable"

/** One pool's Pods: those whose controller ownerReference is the pool of that name and uid. */
export interface PoolPods {
  /** Revision ("" for none) → names of idle, Ready Pods with no image change under way. */
  readonly plainIdle: Map<string, Set<string>>
  /** Revision → names of allocated Pods with no image change under way. */
  readonly plainAllocated: Map<string, Set<string>>
  /** Every other Pod of the pool, by name (deleting ones included). */
  readonly notable: Set<string>
  /** Plain allocated Pods with an expiry: `expiryKey` → name, soonest first. */
  expiries: SortedMap.SortedMap<string, string>
  /** Idle Pods not failed nor deleting, Ready or still starting: the pool's warm Pods. */
  idle: number
  /** The latest allocation any of its Pods recorded (only moves forward: a clock of activity). */
  lastAllocatedAt: number | undefined
}

interface Entry {
  readonly pool: string
  readonly name: string
  readonly kind: Kind
  readonly revision: string
  readonly idle: boolean
  readonly expiryKey: string | undefined
}

export interface PoolLedger {
  /** By `poolId` (pool key and uid). */
  readonly pools: Map<string, PoolPods>
  /** By Pod key (namespace/name). */
  readonly entries: Map<string, Entry>
}

export const make = (): PoolLedger => ({ pools: new Map(), entries: new Map() })

/** A pool as the ledger files it: by key and uid (a pool re-created under its name is another). */
export const poolId = (poolKey: string, uid: string): string => `${poolKey}#${uid}`

/** Sorts as the time it encodes (ms since the epoch, zero-padded), then by name. */
const expiryKey = (expiresAt: number, name: string): string =>
  `${String(Math.max(0, Math.floor(expiresAt))).padStart(16, "0")}/${name}`

const expiryOf = (key: string): number => Number(key.slice(0, 16))

/** How a Pod counts (pure). */
export const kindOf = (sandbox: SandboxPod.SandboxPod): Kind => {
  if (sandbox.deleting || sandbox.failed || sandbox.restarting !== undefined) return "notable"
  if (sandbox.state === "allocated") return "plainAllocated"
  return sandbox.ready ? "plainIdle" : "notable"
}

const emptyPool = (): PoolPods => ({
  plainIdle: new Map(),
  plainAllocated: new Map(),
  notable: new Set(),
  expiries: SortedMap.empty<string, string>(Order.string),
  idle: 0,
  lastAllocatedAt: undefined,
})

const byRevision = (pool: PoolPods, kind: Kind): Map<string, Set<string>> | undefined =>
  kind === "plainIdle" ? pool.plainIdle : kind === "plainAllocated" ? pool.plainAllocated : undefined

const unfile = (self: PoolLedger, entry: Entry): void => {
  const pool = self.pools.get(entry.pool)
  if (pool === undefined) return
  const sets = byRevision(pool, entry.kind)
  if (sets === undefined) pool.notable.delete(entry.name)
  else {
    const names = sets.get(entry.revision)
    names?.delete(entry.name)
    if (names?.size === 0) sets.delete(entry.revision)
  }
  if (entry.expiryKey !== undefined) pool.expiries = SortedMap.remove(pool.expiries, entry.expiryKey)
  if (entry.idle) pool.idle -= 1
}

/** Files the Pod as the watch shows it now (replacing what was known of it). */
export const upsert = (self: PoolLedger, podKey: string, pod: Pod): void => {
  const before = self.entries.get(podKey)
  if (before !== undefined) unfile(self, before)
  const sandbox = SandboxPod.read(pod)
  const owner = PodOwner.controllerPool(pod)
  // Only a Pod its pool owns counts (PodOwner): the label alone files it nowhere.
  if (sandbox === undefined || owner === undefined || owner.name !== sandbox.pool) {
    self.entries.delete(podKey)
    return
  }
  const id = poolId(SandboxPod.poolKey(sandbox.namespace, sandbox.pool), owner.uid)
  let pool = self.pools.get(id)
  if (pool === undefined) {
    pool = emptyPool()
    self.pools.set(id, pool)
  }
  const kind = kindOf(sandbox)
  const revision = sandbox.revision ?? ""
  const sets = byRevision(pool, kind)
  if (sets === undefined) pool.notable.add(sandbox.name)
  else {
    let names = sets.get(revision)
    if (names === undefined) {
      names = new Set()
      sets.set(revision, names)
    }
    names.add(sandbox.name)
  }
  const expiry =
    kind === "plainAllocated" && sandbox.expiresAt !== undefined
      ? expiryKey(sandbox.expiresAt, sandbox.name)
      : undefined
  if (expiry !== undefined) pool.expiries = SortedMap.set(pool.expiries, expiry, sandbox.name)
  const idle = sandbox.state === "idle" && !sandbox.deleting && !sandbox.failed
  if (idle) pool.idle += 1
  if (sandbox.allocatedAt !== undefined)
    pool.lastAllocatedAt = Math.max(pool.lastAllocatedAt ?? 0, sandbox.allocatedAt)
  self.entries.set(podKey, { pool: id, name: sandbox.name, kind, revision, idle, expiryKey: expiry })
}

export const remove = (self: PoolLedger, podKey: string): void => {
  const before = self.entries.get(podKey)
  if (before === undefined) return
  unfile(self, before)
  self.entries.delete(podKey)
}

/** Forgets everything (before a relist files every Pod again). */
export const clear = (self: PoolLedger): void => {
  self.pools.clear()
  self.entries.clear()
}

export const poolOf = (self: PoolLedger, poolKey: string, uid: string): PoolPods | undefined =>
  uid === "" ? undefined : self.pools.get(poolId(poolKey, uid))

/** What the pool reconciler reads of a pool at one revision and moment (see PoolPlan.PlainPods). */
export interface Reading {
  /** Pods to read one by one: the notable ones, plain ones at another revision, and those due to expire. */
  readonly named: ReadonlyArray<string>
  readonly plainIdle: number
  readonly plainAllocated: number
  /** The soonest expiry after `now` among plain allocated Pods. */
  readonly nextExpiry: number | undefined
  /** Names of the plain idle Pods at the revision (a walk: read only when some must go). */
  readonly plainIdleNames: () => ReadonlyArray<string>
}

const none: Reading = {
  named: [],
  plainIdle: 0,
  plainAllocated: 0,
  nextExpiry: undefined,
  plainIdleNames: () => [],
}

/**
 * The pool at `revision` and `now`: plain Pods at that revision by count, every other Pod by name.
 * Costs the number of named Pods, not the pool's size.
 */
export const read = (pool: PoolPods | undefined, revision: string, now: number): Reading => {
  if (pool === undefined) return none
  const named = new Set(pool.notable)
  for (const sets of [pool.plainIdle, pool.plainAllocated])
    for (const [other, names] of sets) if (other !== revision) for (const name of names) named.add(name)
  const current = pool.plainAllocated.get(revision)
  let plainAllocated = current?.size ?? 0
  let nextExpiry: number | undefined
  for (const [key, name] of pool.expiries) {
    const at = expiryOf(key)
    if (at > now) {
      nextExpiry = at
      break
    }
    if (current?.has(name) === true) plainAllocated -= 1
    named.add(name)
  }
  const idleNames = pool.plainIdle.get(revision)
  return {
    named: Array.from(named),
    plainIdle: idleNames?.size ?? 0,
    plainAllocated,
    nextExpiry,
    plainIdleNames: () => Array.from(idleNames ?? []),
  }
}

/** The pool's warm Pods (idle, Ready or starting) as the watch shows them; 0 when unknown. */
export const idleOf = (pool: PoolPods | undefined): number => pool?.idle ?? 0

/**
 * The pool's warm Pods other than `podKey`. A sandbox can be released before the watch has brought
 * its own claim: the ledger then still counts its Pod as warm, and a release into a pool that only
 * that stale count makes full would delete the Pod instead of recycling it.
 */
export const idleBesides = (self: PoolLedger, poolKey: string, uid: string, podKey: string): number => {
  const entry = self.entries.get(podKey)
  const countedWarm = entry?.idle === true && entry.pool === poolId(poolKey, uid)
  return idleOf(poolOf(self, poolKey, uid)) - (countedWarm ? 1 : 0)
}
