import { HashMap, HashSet, Option } from "effect"

/**
 * The controller's scheduler and runner bookkeeping as a pure value (kube-rs's scheduler +
 * runner). Invariants:
 * - a key is scheduled at most once; scheduling it again keeps the earlier due time (dedupe);
 * - a running key is never handed out again; triggers that arrive while it runs collapse into
 *   one rerun, scheduled when it completes;
 * - consecutive failures are counted per key, reset by a success;
 * - a key starts at most once per `minInterval` (0: no limit), so a burst of triggers (every
 *   event of a busy object) costs one reconcile per interval, not one per event.
 * Times are milliseconds on the caller's clock.
 */
export interface ReconcileQueue {
  readonly scheduled: HashMap.HashMap<string, number>
  readonly running: HashSet.HashSet<string>
  readonly rerun: HashMap.HashMap<string, number>
  readonly failures: HashMap.HashMap<string, number>
  readonly lastStarted: HashMap.HashMap<string, number>
  readonly minInterval: number
}

export const empty: ReconcileQueue = {
  scheduled: HashMap.empty(),
  running: HashSet.empty(),
  rerun: HashMap.empty(),
  failures: HashMap.empty(),
  lastStarted: HashMap.empty(),
  minInterval: 0,
}

/** A queue whose keys start at most once per `minInterval` ms. */
export const withMinInterval = (minInterval: number): ReconcileQueue => ({ ...empty, minInterval })

/** No earlier than `minInterval` after the key last started. */
const notBefore = (queue: ReconcileQueue, key: string, at: number): number =>
  Option.match(HashMap.get(queue.lastStarted, key), {
    onNone: () => at,
    onSome: (started) => Math.max(at, started + queue.minInterval),
  })

const earliest = (map: HashMap.HashMap<string, number>, key: string, at: number) =>
  HashMap.modifyAt(map, key, (existing) =>
    Option.some(Option.match(existing, { onNone: () => at, onSome: (t) => Math.min(t, at) })),
  )

/** Asks for `key` to be reconciled at `at` (or sooner, if already asked). */
export const schedule = (queue: ReconcileQueue, key: string, at: number): ReconcileQueue =>
  HashSet.has(queue.running, key)
    ? { ...queue, rerun: earliest(queue.rerun, key, at) }
    : { ...queue, scheduled: earliest(queue.scheduled, key, notBefore(queue, key, at)) }

/**
 * Up to `capacity` keys due by `now`, earliest first, moved to running: the caller starts a
 * reconcile for each.
 */
export const takeDue = (
  queue: ReconcileQueue,
  now: number,
  capacity: number,
): readonly [ReadonlyArray<string>, ReconcileQueue] => {
  if (capacity <= 0) return [[], queue]
  const due: Array<readonly [string, number]> = []
  for (const [key, at] of queue.scheduled) if (at <= now) due.push([key, at])
  if (due.length === 0) return [[], queue]
  due.sort((a, b) => a[1] - b[1])
  const taken = due.slice(0, capacity).map(([key]) => key)
  let scheduled = queue.scheduled
  let running = queue.running
  // Forget start times that no longer hold anything back, so the map stays as small as the busy keys.
  let lastStarted = HashMap.filter(queue.lastStarted, (started) => started + queue.minInterval > now)
  for (const key of taken) {
    scheduled = HashMap.remove(scheduled, key)
    running = HashSet.add(running, key)
    lastStarted = queue.minInterval > 0 ? HashMap.set(lastStarted, key, now) : lastStarted
  }
  return [taken, { ...queue, scheduled, running, lastStarted }]
}

/**
 * `key` finished. `next` is when its own outcome wants it again (requeue or retry), if at all;
 * a trigger that arrived meanwhile may want it sooner.
 */
export const complete = (queue: ReconcileQueue, key: string, next: Option.Option<number>): ReconcileQueue => {
  const pending = HashMap.get(queue.rerun, key)
  const at = Option.isSome(pending)
    ? Option.some(Option.isSome(next) ? Math.min(pending.value, next.value) : pending.value)
    : next
  const base = {
    ...queue,
    running: HashSet.remove(queue.running, key),
    rerun: HashMap.remove(queue.rerun, key),
  }
  return Option.isSome(at)
    ? { ...base, scheduled: earliest(base.scheduled, key, notBefore(base, key, at.value)) }
    : base
}

/** One more consecutive failure of `key`; returns the new count. */
export const recordFailure = (queue: ReconcileQueue, key: string): readonly [number, ReconcileQueue] => {
  const count = Option.getOrElse(HashMap.get(queue.failures, key), () => 0) + 1
  return [count, { ...queue, failures: HashMap.set(queue.failures, key, count) }]
}

export const recordSuccess = (queue: ReconcileQueue, key: string): ReconcileQueue =>
  HashMap.has(queue.failures, key) ? { ...queue, failures: HashMap.remove(queue.failures, key) } : queue

/** When the earliest scheduled key falls due, if any. */
export const nextDue = (queue: ReconcileQueue): Option.Option<number> => {
  let min: number | undefined
  for (const at of HashMap.values(queue.scheduled)) if (min === undefined || at < min) min = at
  return Option.fromNullable(min)
}

export const runningCount = (queue: ReconcileQueue): number => HashSet.size(queue.running)
