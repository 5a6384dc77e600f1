import { Cause, Chunk, Clock, Duration, Effect, Exit, FiberSet, Option, Queue, Stream } from "effect"
import * as Action from "./Action.ts"
import * as Informer from "./Informer.ts"
import type { KubeClient } from "./KubeClient.ts"
import type { KubeObject } from "./KubeObject.ts"
import * as ObjectRef from "./ObjectRef.ts"
import * as ReconcileQueue from "./ReconcileQueue.ts"
import type { AnyResourceType, ResourceType } from "./ResourceType.ts"
import * as Trigger from "./Trigger.ts"
import * as Watcher from "./Watcher.ts"

/** What to do after the `failures`-th consecutive failed reconcile of `ref`. */
export type ErrorPolicy<E> = (ref: ObjectRef.ObjectRef, error: E, failures: number) => Action.Action

/** Exponential retry per key: base, 2·base, 4·base, ... up to max; a success starts over. */
export const retryWithBackoff =
  (options: { readonly base?: Duration.DurationInput; readonly max?: Duration.DurationInput } = {}) =>
  <E>(_ref: ObjectRef.ObjectRef, _error: E, failures: number): Action.Action => {
    const base = Duration.toMillis(options.base ?? "500 millis")
    const max = Duration.toMillis(options.max ?? "5 minutes")
    return Action.requeue(Duration.millis(Math.min(max, base * 2 ** Math.max(0, failures - 1))))
  }

export interface RunnerConfig<E, R> {
  /** Refs to reconcile, e.g. `Trigger.self(watcherEvents)` merged with `Trigger.owners(...)`. */
  readonly triggers: Stream.Stream<ObjectRef.ObjectRef, never, R>
  readonly reconcile: (ref: ObjectRef.ObjectRef) => Effect.Effect<Action.Action, E, R>
  readonly errorPolicy?: ErrorPolicy<E> | undefined
  /** Reconciles running at once (of different keys: one key never runs twice at once). */
  readonly concurrency?: number | undefined
  /** A key starts at most once per this interval: triggers in between collapse into one run. */
  readonly minInterval?: Duration.DurationInput | undefined
}

type Message<E> =
  | { readonly _tag: "Trigger"; readonly key: string }
  | { readonly _tag: "Done"; readonly key: string; readonly exit: Exit.Exit<Action.Action, E> }

/**
 * Runs reconciles for triggered keys until interrupted: duplicates collapse, a key triggered
 * while its reconcile runs runs once more afterwards, requeues and retries wait on the clock,
 * at most `concurrency` reconciles at a time. Failures go to the error policy (default:
 * `retryWithBackoff()`); defects are logged and retried the same way.
 */
export const run = <E, R>(config: RunnerConfig<E, R>): Effect.Effect<never, never, R> =>
  Effect.scoped(
    Effect.gen(function* () {
      const concurrency = Math.max(1, config.concurrency ?? 4)
      const errorPolicy: ErrorPolicy<E> = config.errorPolicy ?? retryWithBackoff()
      const inbox = yield* Queue.unbounded<Message<E>>()
      const workers = yield* FiberSet.make()
      yield* Effect.forkScoped(
        Stream.runForEach(config.triggers, (ref) =>
          Queue.offer(inbox, { _tag: "Trigger", key: ObjectRef.key(ref) }),
        ),
      )
      const reconcileKey = (key: string) =>
        Effect.flatMap(Effect.exit(config.reconcile(ObjectRef.parseKey(key))), (exit) =>
          Queue.offer(inbox, { _tag: "Done", key, exit }),
        )

      let queue = ReconcileQueue.withMinInterval(
        config.minInterval === undefined ? 0 : Duration.toMillis(config.minInterval),
      )

      const outcome = (key: string, exit: Exit.Exit<Action.Action, E>, now: number) =>
        Effect.gen(function* () {
          if (Exit.isSuccess(exit)) {
            queue = ReconcileQueue.recordSuccess(queue, key)
            return nextRun(exit.value, now)
          }
          if (Cause.isInterruptedOnly(exit.cause)) return Option.none<number>()
          const [failures, next] = ReconcileQueue.recordFailure(queue, key)
          queue = next
          const ref = ObjectRef.parseKey(key)
          const failure = Cause.failureOption(exit.cause)
          yield* Effect.logWarning("reconcile failed").pipe(
            Effect.annotateLogs({ key, failures }),
            Effect.annotateLogs("cause", Cause.pretty(exit.cause)),
          )
          const action = Option.isSome(failure)
            ? errorPolicy(ref, failure.value, failures)
            : retryWithBackoff()(ref, undefined, failures)
          return nextRun(action, now)
        })

      const step = Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const capacity = concurrency - ReconcileQueue.runningCount(queue)
        const [keys, taken] = ReconcileQueue.takeDue(queue, now, capacity)
        queue = taken
        for (const key of keys) yield* FiberSet.run(workers, reconcileKey(key))
        // At capacity, only a finishing reconcile can let more start: wait for messages alone.
        const wake =
          ReconcileQueue.runningCount(queue) < concurrency
            ? ReconcileQueue.nextDue(queue)
            : Option.none<number>()
        const receive = Queue.takeBetween(inbox, 1, Number.POSITIVE_INFINITY)
        const messages = Option.isSome(wake)
          ? yield* Effect.race(
              receive,
              Effect.as(Effect.sleep(Duration.millis(wake.value - now)), Chunk.empty()),
            )
          : yield* receive
        const received = yield* Clock.currentTimeMillis
        for (const message of messages) {
          if (message._tag === "Trigger") {
            queue = ReconcileQueue.schedule(queue, message.key, received)
          } else {
            const next = yield* outcome(message.key, message.exit, received)
            queue = ReconcileQueue.complete(queue, message.key, next)
          }
        }
      })
      return yield* Effect.forever(step)
    }),
  )

const nextRun = (action: Action.Action, now: number): Option.Option<number> =>
  action._tag === "Requeue" ? Option.some(now + Duration.toMillis(action.after)) : Option.none()

export interface ControllerConfig<T extends KubeObject, E, R> {
  readonly type: ResourceType<T>
  readonly watch?: Watcher.WatcherConfig | undefined
  /** An informer of `type` the process shares already: its store is read, its events trigger. */
  readonly informer?: Informer.Informer<T, never> | undefined
  /** Kinds whose objects name a `type` object as owner: a change to them triggers the owner. */
  readonly owns?:
    | ReadonlyArray<{ readonly type: AnyResourceType; readonly watch?: Watcher.WatcherConfig | undefined }>
    | undefined
  /** More triggers, e.g. mapped from other kinds. */
  readonly triggers?: Stream.Stream<ObjectRef.ObjectRef, never, R> | undefined
  /** Called with the object as the store holds it now; objects gone from it are skipped. */
  readonly reconcile: (object: T) => Effect.Effect<Action.Action, E, R>
  readonly errorPolicy?: ErrorPolicy<E> | undefined
  readonly concurrency?: number | undefined
  /** A key starts at most once per this interval: triggers in between collapse into one run. */
  readonly minInterval?: Duration.DurationInput | undefined
}

/**
 * kube-rs's Controller: watches `type` (and the kinds it owns) with backoff, or follows a shared
 * informer, and runs `reconcile` on the stored object for every trigger.
 */
export const make = <T extends KubeObject, E, R>(
  config: ControllerConfig<T, E, R>,
): Effect.Effect<never, never, KubeClient | R> =>
  Effect.scoped(
    Effect.gen(function* () {
      const informer = config.informer ?? (yield* Informer.make(config.type, config.watch))
      // Replayed: every object present when the controller starts is reconciled once.
      const own = Trigger.self(yield* informer.subscribe({ replay: true }))
      const owned = (config.owns ?? []).map((owned) =>
        Watcher.watcherWithBackoff(owned.type, owned.watch).pipe(Trigger.owners(config.type)),
      )
      const sources: Array<Stream.Stream<ObjectRef.ObjectRef, never, KubeClient | R>> = [own, ...owned]
      if (config.triggers !== undefined) sources.push(config.triggers)
      const triggers = Stream.mergeAll(sources, { concurrency: "unbounded" })
      return yield* run({
        triggers,
        reconcile: (ref) =>
          Effect.flatMap(informer.store.getRef(ref), (object) =>
            Option.isSome(object) ? config.reconcile(object.value) : Effect.succeed(Action.awaitChange),
          ),
        errorPolicy: config.errorPolicy,
        concurrency: config.concurrency,
        minInterval: config.minInterval,
      })
    }),
  )
