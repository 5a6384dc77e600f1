import { Data, Duration, Effect, HashMap, Option, Order, SortedMap, STM, TRef } from "effect"
import type { WarmPod } from "./IdlePods.ts"

export type { WarmPod } from "./IdlePods.ts"

import * as IdlePods from "./IdlePods.ts"

/** The waiting line is full: the caller should back off (HTTP 429). */
export class QueueFull extends Data.TaggedError("QueueFull")<{ readonly capacity: number }> {}
/** No Pod became idle before the caller's deadline (HTTP 503 with Retry-After). */
export class WaitTimedOut extends Data.TaggedError("WaitTimedOut")<{ readonly waited: Duration.Duration }> {}

type Slot =
  | { readonly _tag: "Waiting" }
  | { readonly _tag: "Served"; readonly pod: WarmPod }
  | { readonly _tag: "Cancelled" }

/** What the watch said of a Pod while it was in flight. */
type SeenSince =
  | { readonly _tag: "Nothing" }
  | { readonly _tag: "Updated"; readonly pod: WarmPod }
  | { readonly _tag: "Removed" }

interface Waiter {
  /** Its place in line: callers are served in the order they came. */
  readonly place: number
  readonly slot: TRef.TRef<Slot>
}

/** The waiting line: callers by place. A caller who gives up leaves it at once. */
type Line = SortedMap.SortedMap<number, Waiter>

/**
 * One pool's idle Pods and its waiting callers, in STM. The watch offers and removes Pods; a caller
 * takes one, or waits in a bounded FIFO line, and is served before any Pod goes back to the idle set.
 * A taken Pod is "in flight" until its claim settles: newer versions the watch reports meanwhile are
 * remembered, so a failed claim (409) can put the Pod back as the watch last saw it.
 */
export interface WarmQueue {
  readonly idle: TRef.TRef<IdlePods.IdlePods>
  readonly line: TRef.TRef<Line>
  /** The place the next caller in line gets. */
  readonly nextPlace: TRef.TRef<number>
  readonly inFlight: TRef.TRef<HashMap.HashMap<string, SeenSince>>
  readonly capacity: number
}

export const make = (options: {
  readonly salt: string
  readonly waitCapacity: number
}): Effect.Effect<WarmQueue> =>
  STM.all({
    idle: TRef.make(IdlePods.empty(options.salt)),
    line: TRef.make<Line>(SortedMap.empty<number, Waiter>(Order.number)),
    nextPlace: TRef.make(0),
    inFlight: TRef.make(HashMap.empty<string, SeenSince>()),
  }).pipe(
    STM.map((refs) => ({ ...refs, capacity: options.waitCapacity })),
    STM.commit,
  )

/** Hands the Pod to the longest-waiting caller (everyone in line still waits: leavers left). */
const serveWaiter = (self: WarmQueue, pod: WarmPod): STM.STM<boolean> =>
  STM.gen(function* () {
    const line = yield* TRef.get(self.line)
    const first = SortedMap.headOption(line)
    if (Option.isNone(first)) return false
    const [place, waiter] = first.value
    yield* TRef.set(self.line, SortedMap.remove(line, place))
    yield* TRef.set(waiter.slot, { _tag: "Served", pod })
    yield* markInFlight(self, pod.name)
    return true
  })

const markInFlight = (self: WarmQueue, name: string): STM.STM<void> =>
  TRef.update(self.inFlight, HashMap.set(name, { _tag: "Nothing" } as SeenSince))

/** The watch saw an idle, Ready Pod (new, or a newer version of one already known). */
export const offer = (self: WarmQueue, pod: WarmPod): Effect.Effect<void> =>
  STM.gen(function* () {
    const inFlight = yield* TRef.get(self.inFlight)
    if (HashMap.has(inFlight, pod.name)) {
      yield* TRef.set(self.inFlight, HashMap.set(inFlight, pod.name, { _tag: "Updated", pod }))
      return
    }
    const idle = yield* TRef.get(self.idle)
    if (!IdlePods.has(idle, pod.name) && (yield* serveWaiter(self, pod))) return
    yield* TRef.set(self.idle, IdlePods.upsert(idle, pod))
  }).pipe(STM.commit)

/** The watch saw the Pod stop being claimable (claimed elsewhere, not Ready, deleting, gone). */
export const remove = (self: WarmQueue, name: string): Effect.Effect<void> =>
  STM.gen(function* () {
    yield* TRef.update(self.idle, (idle) => IdlePods.remove(idle, name))
    const inFlight = yield* TRef.get(self.inFlight)
    if (HashMap.has(inFlight, name))
      yield* TRef.set(self.inFlight, HashMap.set(inFlight, name, { _tag: "Removed" }))
  }).pipe(STM.commit)

/**
 * Ends a taken Pod's flight. `claimed`: it is the caller's now. `conflict`: the claim lost a race
 * (409), so the Pod goes back only as the watch has seen it since, if it saw it idle. `unused`: the
 * caller never tried, and the Pod goes back as it was taken (or as seen since).
 */
export const settle = (
  self: WarmQueue,
  pod: WarmPod,
  outcome: "claimed" | "conflict" | "unused",
): Effect.Effect<void> =>
  STM.gen(function* () {
    const inFlight = yield* TRef.get(self.inFlight)
    const seenSince = HashMap.get(inFlight, pod.name)
    yield* TRef.set(self.inFlight, HashMap.remove(inFlight, pod.name))
    if (outcome === "claimed" || Option.isNone(seenSince)) return
    const seen = seenSince.value
    const giveBack =
      seen._tag === "Updated" ? seen.pod : seen._tag === "Nothing" && outcome === "unused" ? pod : undefined
    if (giveBack === undefined) return
    if (yield* serveWaiter(self, giveBack)) return
    yield* TRef.update(self.idle, (idle) => IdlePods.upsert(idle, giveBack))
  }).pipe(STM.commit)

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
  Effect.gen(function* () {
    const immediate = yield* STM.commit(
      STM.gen(function* () {
        const taken = IdlePods.take(yield* TRef.get(self.idle), options.preferImage)
        if (Option.isSome(taken)) {
          const [pod, rest] = taken.value
          yield* TRef.set(self.idle, rest)
          yield* markInFlight(self, pod.name)
          return { _tag: "Taken", pod } as const
        }
        const line = yield* TRef.get(self.line)
        if (SortedMap.size(line) >= self.capacity)
          return yield* STM.fail(new QueueFull({ capacity: self.capacity }))
        const slot = yield* TRef.make<Slot>({ _tag: "Waiting" })
        const place = yield* TRef.getAndUpdate(self.nextPlace, (n) => n + 1)
        yield* TRef.set(self.line, SortedMap.set(line, place, { place, slot }))
        return { _tag: "Queued", slot, place } as const
      }),
    )
    if (immediate._tag === "Taken") return immediate.pod
    if (options.onQueued !== undefined) yield* options.onQueued
    return yield* awaitServed(self, immediate, Duration.decode(options.wait), restore)
  })

const awaitServed = (
  self: WarmQueue,
  { place, slot }: Waiter,
  wait: Duration.Duration,
  restore: Restore,
): Effect.Effect<WarmPod, WaitTimedOut> => {
  const served = TRef.get(slot).pipe(
    STM.flatMap((state) => (state._tag === "Served" ? STM.succeed(state.pod) : STM.retry)),
    STM.commit,
  )
  // Leaving the line races with being served: decided in one transaction. A caller who leaves is
  // out of the line at once (not kept until its turn comes), so it no longer counts or takes room.
  const leave = TRef.get(slot).pipe(
    STM.flatMap((state) =>
      state._tag === "Served"
        ? STM.succeed(Option.some(state.pod))
        : TRef.set(slot, { _tag: "Cancelled" }).pipe(
            STM.zipRight(TRef.update(self.line, SortedMap.remove(place))),
            STM.as(Option.none<WarmPod>()),
          ),
    ),
    STM.commit,
  )
  return restore(Effect.timeout(served, wait)).pipe(
    Effect.catchTag("TimeoutException", () =>
      leave.pipe(
        Effect.flatMap(
          Option.match({
            onNone: () => Effect.fail(new WaitTimedOut({ waited: wait })),
            onSome: Effect.succeed,
          }),
        ),
      ),
    ),
    Effect.onInterrupt(() =>
      leave.pipe(
        Effect.flatMap(
          Option.match({ onNone: () => Effect.void, onSome: (pod) => settle(self, pod, "unused") }),
        ),
      ),
    ),
  )
}

/** Callers waiting now: the demand the pool reconciler scales up for. */
export const waitingCount = (self: WarmQueue): Effect.Effect<number> =>
  STM.commit(STM.map(TRef.get(self.line), SortedMap.size))

export const idleCount = (self: WarmQueue): Effect.Effect<number> =>
  STM.commit(STM.map(TRef.get(self.idle), IdlePods.size))
