import { Deferred, Effect, Option } from "effect"
import type { KubeObject } from "./KubeObject.ts"
import * as ObjectRef from "./ObjectRef.ts"
import type { WatcherEvent } from "./WatcherEvent.ts"

/** The read side of a reflector's cache; any number of readers. */
export interface Store<T> {
  /** By key: "namespace/name", or "name" for cluster-scoped kinds (see ObjectRef.key). */
  readonly get: (key: string) => Effect.Effect<Option.Option<T>>
  readonly getRef: (ref: ObjectRef.ObjectRef) => Effect.Effect<Option.Option<T>>
  readonly list: Effect.Effect<ReadonlyArray<T>>
  readonly size: Effect.Effect<number>
  /** Completes once the first full list has arrived (the first InitDone). */
  readonly ready: Effect.Effect<void>
}

/** The single write side: applies watcher events. Give it to exactly one reflector. */
export interface Writer<T> {
  readonly store: Store<T>
  readonly apply: (event: WatcherEvent<T>) => Effect.Effect<void>
}

/**
 * A cache keyed by ObjectRef.key. A relist (Init .. InitDone) fills a fresh map and swaps it in
 * at InitDone, so readers see the old content or the new, never a half-listed mix, and objects
 * deleted while disconnected disappear.
 */
export const makeWriter = <T extends KubeObject>(): Effect.Effect<Writer<T>> =>
  Effect.map(Deferred.make<void>(), (readyLatch) => {
    let current = new Map<string, T>()
    let relisting: Map<string, T> | undefined

    const apply = (event: WatcherEvent<T>): Effect.Effect<void> =>
      Effect.suspend(() => {
        switch (event._tag) {
          case "Init":
            relisting = new Map()
            return Effect.void
          case "InitApply":
            relisting ??= new Map()
            relisting.set(ObjectRef.keyOf(event.object), event.object)
            return Effect.void
          case "InitDone":
            current = relisting ?? new Map()
            relisting = undefined
            return Deferred.succeed(readyLatch, undefined)
          case "Apply":
            current.set(ObjectRef.keyOf(event.object), event.object)
            return Effect.void
          case "Delete":
            current.delete(ObjectRef.keyOf(event.object))
            return Effect.void
        }
      })

    const get = (key: string) => Effect.sync(() => Option.fromNullable(current.get(key)))
    const store: Store<T> = {
      get,
      getRef: (ref) => get(ObjectRef.key(ref)),
      list: Effect.sync(() => Array.from(current.values())),
      size: Effect.sync(() => current.size),
      ready: Deferred.await(readyLatch),
    }
    return { store, apply }
  })
