import { Data, Deferred, Duration, Effect, Exit, FiberId, Option } from "effect"
import type { WarmPod } from "./IdlePods.ts"

export type { WarmPod } from "./IdlePods.ts"

import * as IdlePods from "./IdlePods.ts"

/** The waiting line is full: the caller should back off (HTTP 429). */
export class QueueFull extends Data.TaggedError("QueueFull")<{ readonly capacity: number }> {}
/** No Pod became idle before the caller's deadline (HTTP 503 with Retry-After). */
export class WaitTimedOut extends Data.TaggedError("WaitTimedOut")<{ readonly waited: Duration.Duration }> {}

/** What the watch said of a Pod while it was in flight. */
type SeenSince =
  | { readonly _tag: "Nothing" }
  | { readonly _tag: "Updated"; readonly pod: WarmPod }
  | { readonly _tag: "Removed" }

const nothingSeen: SeenSince = { _tag: "Nothing" }
const removedSince: SeenSince = { _tag: "Removed" }

interface Waiter {
  /** Its place in line: callers are served in the order they came. */
  readonly place: number
  /** The Pod it was served, set in the same step that takes it out of the line. */
  served: WarmPod | undefined
  readonly wake: Deferred.Deferred<WarmPod>
}

/**
 * One pool's idle Pods and its waiting callers. The watch offers and removes Pods; a caller takes
 * one, or waits in a bounded FIFO line, and is served before any Pod goes back to the idle set. A
 * taken Pod is "in flight" until its claim settles: newer versions the watch reports meanwhile are
 * remembered, so a failed claim (409) can put the Pod back as the watch last saw it.
 *
 * Plain mutable state, no STM: every operation is one synchronous step (JavaScript runs one fiber
 * at a time and a step never yields), so no two callers can ever see the same Pod idle, and a
 * waiter is served and taken out of the line in the same step. A transaction per claim, offer and
 * settle cost ≈ 5% of the operator's CPU and bought nothing a single thread does not already give.
 */
export interface WarmQueue {
  idle: IdlePods.IdlePods
  /** The waiting line by place; places only grow, so insertion order is the order callers came. */
  readonly line: Map<number, Waiter>
  /** The place the next caller in line gets. */
  nextPlace: number
  readonly inFlight: Map<string, SeenSince>
  readonly capacity: number
}

export interface WarmQueueOptions {
  readonly salt: string
  readonly waitCapacity: number
}

export const unsafeMake = (options: WarmQueueOptions): WarmQueue => ({
  idle: IdlePods.empty(options.salt),
  line: new Map(),
  nextPlace: 0,
  inFlight: new Map(),
  capacity: options.waitCapacity,
})

export const make = (options: WarmQueueOptions): Effect.Effect<WarmQueue> =>
  Effect.sync(() => unsafeMake(options))

/** Hands the Pod to the longest-waiting caller (everyone in line still waits: leavers left). */
const serveWaiter = (self: WarmQueue, pod: WarmPod): boolean => {
  const first = self.line.values().next()
  if (first.done === true) return false
  const waiter = first.value
  self.line.delete(waiter.place)
  waiter.served = pod
  self.inFlight.set(pod.name, nothingSeen)
  Deferred.unsafeDone(waiter.wake, Exit.succeed(pod))
  return true
}

/** `offer`, as one synchronous step (for callers already inside one, e.g. a watch listener). */
export const unsafeOffer = (self: WarmQueue, pod: WarmPod): void => {
  if (self.inFlight.has(pod.name)) {
    self.inFlight.set(pod.name, { _tag: "Updated", pod })
    return
  }
  if (!IdlePods.has(self.idle, pod.name) && serveWaiter(self, pod)) return
  self.idle = IdlePods.upsert(self.idle, pod)
}

/** `remove`, as one synchronous step. */
export const unsafeRemove = (self: WarmQueue, name: string): void => {
  self.idle = IdlePods.remove(self.idle, name)
  if (self.inFlight.has(name)) self.inFlight.set(name, removedSince)
}

/** The watch saw an idle, Ready Pod (new, or a newer version of one already known). */
export const offer = (self: WarmQueue, pod: WarmPod): Effect.Effect<void> =>
  Effect.sync(() => unsafeOffer(self, pod))

/** The watch saw the Pod stop being claimable (claimed elsewhere, not Ready, deleting, gone). */
export const remove = (self: WarmQueue, name: string): Effect.Effect<void> =>
  Effect.sync(() => unsafeRemove(self, name))

/**
 * Ends a taken Pod's flight. `claimed`: it is the caller's now. `conflict`: the claim lost a race
 * (409), so the Pod goes back only as the watch has seen it since, if it saw it idle. `unused`: the
 * caller never tried, and the Pod goes back as it was taken (or as seen since).
 */
export const unsafeSettle = (
  self: WarmQueue,
  pod: WarmPod,
  outcome: "claimed" | "conflict" | "unused",
): void => {
  const seen = self.inFlight.get(pod.name)
  self.inFlight.delete(pod.name)
  if (outcome === "claimed" || seen === undefined) return
  const giveBack =
    seen._tag === "Updated" ? seen.pod : seen._tag === "Nothing" && outcome === "unused" ? pod : undefined
  if (giveBack === undefined) return
  if (serveWaiter(self, giveBack)) return
  self.idle = IdlePods.upsert(self.idle, giveBack)
}

export const settle = (
  self: WarmQueue,
  pod: WarmPod,
  outcome: "claimed" | "conflict" | "unused",
): Effect.Effect<void> => Effect.sync(() => unsafeSettle(self, pod, outcome))

export interface TakeOptions {
  readonly preferImage?: string | undefined
  readonly wait: Duration.DurationInput
  /** Runs once the caller is in line (so whoever it tells already counts the caller). */
  readonly onQueued?: Effect.Effect<void> | undefined
}

/** Makes an effect interruptible again inside `Effect.uninterruptibleMask` (its `restore`). */
export type Restore = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

/**
 * Takes an idle Pod (marking it in flight), or waits in line until one is offered, at most `wait`.
 * A caller interrupted while waiting leaves the line; a Pod it was served meanwhile goes back.
 * The Pod is in flight until `settle`: a caller interrupted between the two would strand it, so
 * callers that settle call `takeMasked` inside `Effect.uninterruptibleMask` instead.
 */
export const take = (
  self: WarmQueue,
  options: TakeOptions,
): Effect.Effect<WarmPod, QueueFull | WaitTimedOut> =>
  Effect.uninterruptibleMask((restore) => takeMasked(self, options, restore))

/**
 * `take` for a caller inside `Effect.uninterruptibleMask`: only the wait in line runs under the
 * caller's `restore`, so interruption can never land between taking a Pod and handing it over.
 */
export const takeMasked = (
  self: WarmQueue,
  options: TakeOptions,
  restore: Restore,
): Effect.Effect<WarmPod, QueueFull | WaitTimedOut> =>
  Effect.suspend((): Effect.Effect<WarmPod, QueueFull | WaitTimedOut> => {
    const taken = IdlePods.take(self.idle, options.preferImage)
    if (Option.isSome(taken)) {
      const [pod, rest] = taken.value
      self.idle = rest
      self.inFlight.set(pod.name, nothingSeen)
      return Effect.succeed(pod)
    }
    if (self.line.size >= self.capacity) return Effect.fail(new QueueFull({ capacity: self.capacity }))
    const waiter: Waiter = {
      place: self.nextPlace++,
      served: undefined,
      wake: Deferred.unsafeMake(FiberId.none),
    }
    self.line.set(waiter.place, waiter)
    const served = awaitServed(self, waiter, Duration.decode(options.wait), restore)
    return options.onQueued === undefined ? served : Effect.zipRight(options.onQueued, served)
  })

const awaitServed = (
  self: WarmQueue,
  waiter: Waiter,
  wait: Duration.Duration,
  restore: Restore,
): Effect.Effect<WarmPod, WaitTimedOut> => {
  // Leaving the line races with being served: decided in one step. A caller who leaves is out of
  // the line at once (not kept until its turn comes), so it no longer counts or takes room.
  const leave = Effect.sync((): WarmPod | undefined => {
    if (waiter.served !== undefined) return waiter.served
    self.line.delete(waiter.place)
    return undefined
  })
  return restore(Effect.timeout(Deferred.await(waiter.wake), wait)).pipe(
    Effect.catchTag("TimeoutException", () =>
      Effect.flatMap(leave, (pod) =>
        pod === undefined ? Effect.fail(new WaitTimedOut({ waited: wait })) : Effect.succeed(pod),
      ),
    ),
    Effect.onInterrupt(() =>
      Effect.flatMap(leave, (pod) => (pod === undefined ? Effect.void : settle(self, pod, "unused"))),
    ),
  )
}

/** Callers waiting now: the demand the pool reconciler scales up for. */
export const waitingCount = (self: WarmQueue): Effect.Effect<number> => Effect.sync(() => self.line.size)

export const idleCount = (self: WarmQueue): Effect.Effect<number> =>
  Effect.sync(() => IdlePods.size(self.idle))
