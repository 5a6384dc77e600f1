import { Deferred, Effect, Option } from "effect"
import type { KubeObject } from "./KubeObject.ts"
import * as ObjectRef from "./ObjectRef.ts"
import * as WatcherEvent from "./WatcherEvent.ts"

/**
 * Secondary keys of an object, by index name (client-go's Indexers): the values it is found under
 * in that index, or undefined/empty for none. Keep them cheap: they run on every event.
 */
export type Indexers<T, I extends string> = { readonly [name in I]: (object: T) => string | undefined }

/** The read side of a reflector's cache; any number of readers. */
export interface Store<T, I extends string = never> {
  /** By key: "namespace/name", or "name" for cluster-scoped kinds (see ObjectRef.key). */
  readonly get: (key: string) => Effect.Effect<Option.Option<T>>
  readonly getRef: (ref: ObjectRef.ObjectRef) => Effect.Effect<Option.Option<T>>
  readonly list: Effect.Effect<ReadonlyArray<T>>
  readonly size: Effect.Effect<number>
  /** The objects an indexer maps to `value`. */
  readonly byIndex: (index: I, value: string) => Effect.Effect<ReadonlyArray<T>>
  /** Values of an index that have objects now. */
  readonly indexValues: (index: I) => Effect.Effect<ReadonlyArray<string>>
  /** Synchronous reads, for pure code that runs inside one step (a lookup on the hot path). */
  readonly unsafeGet: (key: string) => T | undefined
  readonly unsafeByIndex: (index: I, value: string) => ReadonlyMap<string, T> | undefined
  readonly unsafeIndexValues: (index: I) => Iterable<string>
  /** Completes once the first full list has arrived (the first InitDone). */
  readonly ready: Effect.Effect<void>
}

/** The single write side: applies watcher events. Give it to exactly one reflector. */
export interface Writer<T, I extends string = never> {
  readonly store: Store<T, I>
  readonly apply: (event: WatcherEvent.WatcherEvent<T>) => Effect.Effect<void>
  /**
   * The events that bring a new reader to where the store is now: nothing before the first list,
   * the listed content as Init .. InitDone after it, and the part of a relist under way (Init and
   * its InitApplys so far; the watcher's own InitDone follows).
   */
  readonly replay: () => ReadonlyArray<WatcherEvent.WatcherEvent<T>>
}

interface Contents<T, I extends string> {
  readonly objects: Map<string, T>
  /** index → value → key → object */
  readonly indexes: Map<I, Map<string, Map<string, T>>>
}

/**
 * A cache keyed by ObjectRef.key, with secondary indexes. A relist (Init .. InitDone) fills a fresh
 * map and swaps it in at InitDone, so readers see the old content or the new, never a half-listed
 * mix, and objects deleted while disconnected disappear.
 */
export const makeWriter = <T extends KubeObject, I extends string = never>(
  indexers?: Indexers<T, I>,
): Effect.Effect<Writer<T, I>> =>
  Effect.map(Deferred.make<void>(), (readyLatch) => {
    const names = Object.keys(indexers ?? {}) as unknown as ReadonlyArray<I>
    const empty = (): Contents<T, I> => ({
      objects: new Map(),
      indexes: new Map(names.map((name) => [name, new Map()])),
    })
    let current = empty()
    let relisting: Contents<T, I> | undefined
    let listed = false

    const unindex = (contents: Contents<T, I>, key: string, object: T) => {
      for (const name of names) {
        const value = indexers?.[name](object)
        if (value === undefined) continue
        const bucket = contents.indexes.get(name)?.get(value)
        bucket?.delete(key)
        if (bucket?.size === 0) contents.indexes.get(name)?.delete(value)
      }
    }
    const put = (contents: Contents<T, I>, object: T) => {
      const key = ObjectRef.keyOf(object)
      const previous = contents.objects.get(key)
      if (previous !== undefined) unindex(contents, key, previous)
      contents.objects.set(key, object)
      for (const name of names) {
        const value = indexers?.[name](object)
        if (value === undefined) continue
        const index = contents.indexes.get(name)
        let bucket = index?.get(value)
        if (bucket === undefined) {
          bucket = new Map()
          index?.set(value, bucket)
        }
        bucket.set(key, object)
      }
    }
    const remove = (contents: Contents<T, I>, object: T) => {
      const key = ObjectRef.keyOf(object)
      const previous = contents.objects.get(key)
      if (previous === undefined) return
      unindex(contents, key, previous)
      contents.objects.delete(key)
    }

    const apply = (event: WatcherEvent.WatcherEvent<T>): Effect.Effect<void> =>
      Effect.suspend(() => {
        switch (event._tag) {
          case "Init":
            relisting = empty()
            return Effect.void
          case "InitApply":
            relisting ??= empty()
            put(relisting, event.object)
            return Effect.void
          case "InitDone":
            current = relisting ?? empty()
            relisting = undefined
            listed = true
            return Deferred.succeed(readyLatch, undefined)
          case "Apply":
            put(current, event.object)
            return Effect.void
          case "Delete":
            remove(current, event.object)
            return Effect.void
        }
      })

    const replay = (): ReadonlyArray<WatcherEvent.WatcherEvent<T>> => {
      if (relisting !== undefined) {
        return [WatcherEvent.Init, ...Array.from(relisting.objects.values(), WatcherEvent.InitApply)]
      }
      if (!listed) return []
      return [
        WatcherEvent.Init,
        ...Array.from(current.objects.values(), WatcherEvent.InitApply),
        WatcherEvent.InitDone,
      ]
    }

    const get = (key: string) => Effect.sync(() => Option.fromNullable(current.objects.get(key)))
    const store: Store<T, I> = {
      get,
      getRef: (ref) => get(ObjectRef.key(ref)),
      list: Effect.sync(() => Array.from(current.objects.values())),
      size: Effect.sync(() => current.objects.size),
      byIndex: (index, value) =>
        Effect.sync(() => Array.from(current.indexes.get(index)?.get(value)?.values() ?? [])),
      indexValues: (index) => Effect.sync(() => Array.from(current.indexes.get(index)?.keys() ?? [])),
      unsafeGet: (key) => current.objects.get(key),
      unsafeByIndex: (index, value) => current.indexes.get(index)?.get(value),
      unsafeIndexValues: (index) => current.indexes.get(index)?.keys() ?? [],
      ready: Deferred.await(readyLatch),
    }
    return { store, apply, replay }
  })
