import { Effect, PubSub, type Scope, Stream } from "effect"
import type { KubeClient } from "./KubeClient.ts"
import type { KubeObject } from "./KubeObject.ts"
import type { ResourceType } from "./ResourceType.ts"
import * as Store from "./Store.ts"
import * as Watcher from "./Watcher.ts"
import type { WatcherEvent } from "./WatcherEvent.ts"

/** Bookkeeping run on each event in the step that applies it; see `Informer.listen`. */
export type Listener<T> = (event: WatcherEvent<T>) => Effect.Effect<void>

/**
 * client-go's shared informer: one watch of a kind feeding one indexed store, and any number of
 * subscribers told of each event once the store has applied it (so a subscriber reading the store
 * sees at least what the event says).
 */
export interface Informer<T, I extends string = never> {
  readonly store: Store.Store<T, I>
  /**
   * The events from now on. With `replay`, a subscriber that comes late is first brought to where
   * the store is (its content as a list: Init, InitApply.., InitDone), with nothing missed or
   * doubled in between; without it, only what comes next.
   */
  readonly subscribe: (options?: {
    readonly replay?: boolean | undefined
  }) => Effect.Effect<Stream.Stream<WatcherEvent<T>>, never, Scope.Scope>
  /**
   * Runs `listener` on every event inside the step that applies it, right after the store, until the
   * scope closes; `replay` as for `subscribe`. For quick bookkeeping on a hot path (a Pod watch
   * brings several events per claim): a subscriber costs a queue and a fiber wake per event, a
   * listener a function call. A listener must not wait: the watch waits for it. Its defects are
   * logged and do not stop the informer.
   */
  readonly listen: (
    listener: Listener<T>,
    options?: { readonly replay?: boolean | undefined },
  ) => Effect.Effect<void, never, Scope.Scope>
}

/** An informer over any stream of watcher events (the watch itself, or a test's). */
export const fromEvents = <T extends KubeObject, I extends string = never>(
  events: Stream.Stream<WatcherEvent<T>>,
  indexers?: Store.Indexers<T, I>,
): Effect.Effect<Informer<T, I>, never, Scope.Scope> =>
  Effect.gen(function* () {
    const writer = yield* Store.makeWriter<T, I>(indexers)
    const subscribers = yield* PubSub.unbounded<WatcherEvent<T>>()
    const listeners = new Set<Listener<T>>()
    const tell = (listener: Listener<T>, event: WatcherEvent<T>) =>
      Effect.catchAllCause(listener(event), (cause) => Effect.logError("informer listener failed", cause))
    const tellAll = (event: WatcherEvent<T>) =>
      listeners.size === 0
        ? Effect.void
        : Effect.forEach(listeners, (listener) => tell(listener, event), { discard: true })
    // Applying an event and publishing it is one step, and so is joining with a replay: a
    // subscriber's replay and its first live event can neither overlap nor leave a gap.
    const step = yield* Effect.makeSemaphore(1)
    yield* events.pipe(
      Stream.runForEach((event) =>
        step.withPermits(1)(
          Effect.zipRight(
            Effect.zipRight(writer.apply(event), tellAll(event)),
            PubSub.publish(subscribers, event),
          ),
        ),
      ),
      Effect.forkScoped,
    )
    return {
      store: writer.store,
      subscribe: (options) =>
        step.withPermits(1)(
          Effect.map(PubSub.subscribe(subscribers), (live) =>
            Stream.concat(
              Stream.fromIterable(options?.replay === true ? writer.replay() : []),
              Stream.fromQueue(live),
            ),
          ),
        ),
      listen: (listener, options) =>
        Effect.acquireRelease(
          step.withPermits(1)(
            Effect.zipRight(
              options?.replay === true
                ? Effect.forEach(writer.replay(), (event) => tell(listener, event), { discard: true })
                : Effect.void,
              Effect.sync(() => {
                // A function may listen twice (two scopes): each registration is its own entry.
                const entry: Listener<T> = (event) => listener(event)
                listeners.add(entry)
                return entry
              }),
            ),
          ),
          (entry) => Effect.sync(() => listeners.delete(entry)),
        ).pipe(Effect.asVoid),
    }
  })

/** Watches `type` (with backoff, resuming, relisting on 410) into an informer. */
export const make = <T extends KubeObject, I extends string = never>(
  type: ResourceType<T>,
  options: Watcher.WatcherOptions<T> & { readonly indexers?: Store.Indexers<T, I> | undefined } = {},
): Effect.Effect<Informer<T, I>, never, KubeClient | Scope.Scope> =>
  Effect.flatMap(Effect.context<KubeClient>(), (context) =>
    fromEvents(
      Watcher.watcherWithBackoff(type, options).pipe(Stream.provideContext(context)),
      options.indexers,
    ),
  )
