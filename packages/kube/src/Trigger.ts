import { type Duration, Effect, Stream } from "effect"
import type { Listener } from "./Informer.ts"
import type { KubeObject } from "./KubeObject.ts"
import * as ObjectRef from "./ObjectRef.ts"
import type { ResourceInfo } from "./ResourceType.ts"
import type { WatcherEvent } from "./WatcherEvent.ts"

/**
 * Turns watcher events into the refs to reconcile, through `toRefs`. Objects of a (re)list are
 * held back until InitDone: a reflector upstream swaps its store in at InitDone, so a reconcile
 * they trigger reads the freshly listed object, never the content from before the relist.
 */
export const mapped =
  <T extends KubeObject>(toRefs: (object: T) => Iterable<ObjectRef.ObjectRef>) =>
  <E, R>(events: Stream.Stream<WatcherEvent<T>, E, R>): Stream.Stream<ObjectRef.ObjectRef, E, R> =>
    Stream.suspend(() => {
      let listed: Array<ObjectRef.ObjectRef> = []
      return Stream.mapConcat(events, (event): Iterable<ObjectRef.ObjectRef> => {
        switch (event._tag) {
          case "Init":
            listed = []
            return []
          case "InitApply":
            for (const ref of toRefs(event.object)) listed.push(ref)
            return []
          case "InitDone": {
            const refs = listed
            listed = []
            return refs
          }
          case "Apply":
          case "Delete":
            return toRefs(event.object)
        }
      })
    })

/** Each object triggers itself (kube-rs's trigger_self). */
export const self: <T extends KubeObject, E, R>(
  events: Stream.Stream<WatcherEvent<T>, E, R>,
) => Stream.Stream<ObjectRef.ObjectRef, E, R> = mapped((object: KubeObject) => [ObjectRef.fromObject(object)])

/** Each object triggers its owners of the given kind (kube-rs's trigger_owners). */
export const owners = (owner: ResourceInfo) =>
  mapped((object: KubeObject) =>
    ObjectRef.ownersOf(object, { kind: owner.kind, apiVersion: owner.apiVersion }),
  )

/** Refs to reconcile fed by an informer listener: `listener` for `Informer.listen`, `refs` for the runner. */
export interface Listened<T> {
  readonly listener: Listener<T>
  readonly refs: Stream.Stream<ObjectRef.ObjectRef>
}

/**
 * `mapped` then `batched`, fed by an informer listener instead of a subscriber's stream: a hot
 * watch (several Pod events per claim) then costs a function call and a set insert per event, and
 * the runner one wake per window. Objects of a (re)list are held back until InitDone, as in `mapped`.
 * `refs` is for one consumer.
 */
export const listened = <T extends KubeObject>(
  toRefs: (object: T) => Iterable<ObjectRef.ObjectRef>,
  window: Duration.DurationInput,
): Effect.Effect<Listened<T>> =>
  Effect.map(Effect.makeLatch(false), (marked) => {
    const pending = new Map<string, ObjectRef.ObjectRef>()
    let listed: Array<ObjectRef.ObjectRef> = []
    const mark = (refs: Iterable<ObjectRef.ObjectRef>) => {
      for (const ref of refs) pending.set(ObjectRef.key(ref), ref)
      if (pending.size > 0) marked.unsafeOpen()
    }
    const listener: Listener<T> = (event) =>
      Effect.sync(() => {
        switch (event._tag) {
          case "Init":
            listed = []
            return
          case "InitApply":
            for (const ref of toRefs(event.object)) listed.push(ref)
            return
          case "InitDone":
            mark(listed)
            listed = []
            return
          case "Apply":
          case "Delete":
            mark(toRefs(event.object))
        }
      })
    const batch = Effect.gen(function* () {
      yield* marked.await
      yield* Effect.sleep(window)
      marked.unsafeClose()
      const refs = Array.from(pending.values())
      pending.clear()
      return refs
    })
    return { listener, refs: Stream.flattenIterables(Stream.repeatEffect(batch)) }
  })
