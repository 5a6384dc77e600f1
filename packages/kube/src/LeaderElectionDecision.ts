/**
 * The pure half of Lease-based leader election: what the Lease says, when we last saw it
 * change, and what to do next. Times are local clock milliseconds; the Lease's own timestamps
 * are only compared for change, never against our clock, so hosts with skewed clocks agree.
 */

/** The election-relevant fields of a coordination.k8s.io/v1 Lease spec. */
export interface LeaseRecord {
  /** "" when nobody holds the lease (never set, or released). */
  readonly holderIdentity: string
  readonly leaseDurationSeconds: number
  /** Opaque: only compared with the previous value to notice renewals. */
  readonly renewTime: string
  readonly acquireTime: string
  readonly leaseTransitions: number
}

/** A record together with the local time at which we first saw it in this exact state. */
export interface Observation {
  readonly record: LeaseRecord
  readonly observedAt: number
}

export type Decision =
  /** No Lease exists yet: create it holding it ourselves. */
  | { readonly _tag: "Create" }
  /** We hold it: write a fresh renewTime. */
  | { readonly _tag: "Renew" }
  /** Free or expired: take it over (one more transition). */
  | { readonly _tag: "Acquire" }
  /** Someone else holds it and has renewed within its duration as we observed it. */
  | { readonly _tag: "Follow"; readonly holder: string; readonly expiresAt: number }

const sameRecord = (a: LeaseRecord, b: LeaseRecord): boolean =>
  a.holderIdentity === b.holderIdentity &&
  a.renewTime === b.renewTime &&
  a.acquireTime === b.acquireTime &&
  a.leaseDurationSeconds === b.leaseDurationSeconds &&
  a.leaseTransitions === b.leaseTransitions

/** Keeps the first-seen time while the record is unchanged; restarts it on any change. */
export const observe = (previous: Observation | undefined, record: LeaseRecord, now: number): Observation =>
  previous !== undefined && sameRecord(previous.record, record) ? previous : { record, observedAt: now }

/** When the current holder's claim lapses, as judged from our own observation. */
export const expiresAt = (observation: Observation): number =>
  observation.observedAt + observation.record.leaseDurationSeconds * 1000

export const isFree = (observation: Observation, now: number): boolean =>
  observation.record.holderIdentity === "" || now >= expiresAt(observation)

export const decide = (identity: string, observation: Observation | undefined, now: number): Decision => {
  if (observation === undefined) return { _tag: "Create" }
  const holder = observation.record.holderIdentity
  if (holder === identity) return { _tag: "Renew" }
  if (isFree(observation, now)) return { _tag: "Acquire" }
  return { _tag: "Follow", holder, expiresAt: expiresAt(observation) }
}

/** The record to write for a Create/Renew/Acquire decision; `timestamp` is what goes on the wire. */
export const desiredRecord = (
  decision: Exclude<Decision, { _tag: "Follow" }>,
  current: LeaseRecord | undefined,
  identity: string,
  leaseDurationSeconds: number,
  timestamp: string,
): LeaseRecord => {
  switch (decision._tag) {
    case "Create":
      return {
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: timestamp,
        renewTime: timestamp,
        leaseTransitions: 0,
      }
    case "Renew":
      return {
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: current?.acquireTime || timestamp,
        renewTime: timestamp,
        leaseTransitions: current?.leaseTransitions ?? 0,
      }
    case "Acquire":
      return {
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: timestamp,
        renewTime: timestamp,
        leaseTransitions: (current?.leaseTransitions ?? 0) + 1,
      }
  }
}

/**
 * What a leader writes on the way out: no holder and a 1 s duration, so candidates take over
 * at their next attempt instead of waiting out the lease. Transitions are kept; the next
 * acquirer counts the transition.
 */
export const releasedRecord = (current: LeaseRecord, timestamp: string): LeaseRecord => ({
  holderIdentity: "",
  leaseDurationSeconds: 1,
  acquireTime: timestamp,
  renewTime: timestamp,
  leaseTransitions: current.leaseTransitions,
})

/** A leader that has not renewed successfully for renewDeadline must stop acting as leader. */
export const renewalLapsed = (lastRenewedAt: number, now: number, renewDeadlineMillis: number): boolean =>
  now - lastRenewedAt >= renewDeadlineMillis

/** How long one attempt may take: a leader only until its renew deadline, others a full deadline. */
export const attemptBudget = (
  lastRenewedAt: number | undefined,
  now: number,
  renewDeadlineMillis: number,
): number =>
  lastRenewedAt === undefined ? renewDeadlineMillis : Math.max(0, lastRenewedAt + renewDeadlineMillis - now)

/** Jitter factor for candidates (as client-go's 1.2), so they do not hit the API in lockstep. */
export const candidateJitter = 1.2

/** Wait before the next attempt: leaders renew every retryPeriod; candidates add jitter in [0, 1). */
export const nextAttemptDelay = (leading: boolean, retryPeriodMillis: number, random: number): number =>
  leading ? retryPeriodMillis : retryPeriodMillis * (1 + candidateJitter * random)

export interface TimingMillis {
  readonly leaseDuration: number
  readonly renewDeadline: number
  readonly retryPeriod: number
}

/**
 * The ordering that makes the election safe: a leader gives up (renewDeadline) before anyone
 * may take over (leaseDuration), and gets several attempts (retryPeriod) before giving up.
 */
export const validateTiming = (timing: TimingMillis): string | undefined => {
  if (!(timing.retryPeriod > 0)) return "retryPeriod must be positive"
  if (!(timing.leaseDuration > timing.renewDeadline))
    return "leaseDuration must be greater than renewDeadline"
  if (!(timing.renewDeadline > candidateJitter * timing.retryPeriod))
    return `renewDeadline must be greater than ${candidateJitter} x retryPeriod`
  if (timing.leaseDuration < 1000) return "leaseDuration must be at least 1 second"
  return undefined
}
