import { type Duration, Stream } from "effect"
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

/**
 * Gathers refs for `window` after the first and passes each distinct one on once: a burst of
 * events about the same few objects costs the runner one trigger per object, not one per event.
 */
export const batched =
  (window: Duration.DurationInput) =>
  <E, R>(refs: Stream.Stream<ObjectRef.ObjectRef, E, R>): Stream.Stream<ObjectRef.ObjectRef, E, R> =>
    refs.pipe(
      Stream.groupedWithin(Number.MAX_SAFE_INTEGER, window),
      Stream.mapConcat((chunk) => {
        const distinct = new Map<string, ObjectRef.ObjectRef>()
        for (const ref of chunk) distinct.set(ObjectRef.key(ref), ref)
        return distinct.values()
      }),
    )
