import { ObjectRef, type WatcherEvent } from "@agent-sandbox/kube"
import type { Pod } from "kubernetes-types/core/v1.js"
import * as SandboxChange from "../sandbox/SandboxChange.ts"

/**
 * This replica's own writes of sandbox Pods (claims, extends) that its watch has not shown yet, so
 * that a caller who just got a sandbox finds it (read-your-writes). Every such write is conditional
 * on the version it was based on, so the next version the watch shows of that Pod is this write or
 * a later one: the entry is forgotten then. resourceVersions are only compared for equality.
 */
export interface OwnWrites {
  /** Sandbox id → the written Pod, or null: this replica ended the sandbox (recycled or deleted its Pod). */
  readonly bySandbox: Map<string, Pod | null>
  /**
   * Pod key → the write: its sandbox id, and the versions of the Pod from before it (what it was
   * based on, and what the watch showed when it was remembered).
   */
  readonly byPod: Map<
    string,
    { readonly sandboxId: string; readonly before: ReadonlySet<string | undefined> }
  >
}

export const make = (): OwnWrites => ({ bySandbox: new Map(), byPod: new Map() })

/**
 * Records a write of the Pod `podKey` about `sandboxId` (the written Pod, or null: the write ended
 * the sandbox), based on the version `basedOn`. Kept only while it is news: when the watch (at
 * `watched`) is still at that version, or it is based on this replica's own previous write.
 */
const record = (
  self: OwnWrites,
  sandboxId: string,
  podKey: string,
  written: Pod | null,
  basedOn: string,
  watched: string | undefined,
): void => {
  const previous = self.byPod.get(podKey)
  const ownWrite = previous === undefined ? undefined : self.bySandbox.get(previous.sandboxId)
  if (watched !== basedOn && ownWrite?.metadata?.resourceVersion !== basedOn) return
  forget(self, podKey)
  self.bySandbox.set(sandboxId, written)
  self.byPod.set(podKey, { sandboxId, before: new Set([basedOn, watched, ...(previous?.before ?? [])]) })
}

/** Remembers `pod`, written against `basedOn`, while it holds a sandbox. */
export const remember = (self: OwnWrites, pod: Pod, basedOn: string, watched: string | undefined): void => {
  const sandboxId = SandboxChange.held(pod)?.sandboxId
  if (sandboxId !== undefined) record(self, sandboxId, ObjectRef.keyOf(pod), pod, basedOn, watched)
}

/** Remembers that this replica ended `sandboxId` on the Pod `podKey` with a write based on `basedOn`. */
export const rememberEnd = (
  self: OwnWrites,
  sandboxId: string,
  podKey: string,
  basedOn: string,
  watched: string | undefined,
): void => record(self, sandboxId, podKey, null, basedOn, watched)

/**
 * The watch showed something of a Pod (or relisted): a write is forgotten once the store holds
 * a version from after it (none of those from before), which is this write or a later one. (The store,
 * not the event: events reach subscribers after the store has applied them, possibly older ones.)
 */
export const observe = (
  self: OwnWrites,
  event: WatcherEvent.WatcherEvent<Pod>,
  watchedVersion: (podKey: string) => string | undefined,
): void => {
  const settled = (key: string) => {
    const write = self.byPod.get(key)
    if (write !== undefined && !write.before.has(watchedVersion(key))) forget(self, key)
  }
  if (event._tag === "Apply" || event._tag === "Delete") settled(ObjectRef.keyOf(event.object))
  else if (event._tag === "InitDone") for (const key of Array.from(self.byPod.keys())) settled(key)
}

/** The sandbox's Pod as this replica wrote it, null when this replica ended it, undefined when it wrote neither. */
export const ofSandbox = (self: OwnWrites, sandboxId: string): Pod | null | undefined =>
  self.bySandbox.get(sandboxId)

/** Writes remembered now (claims, extends and ends): an upper bound on what they add to any count. */
export const size = (self: OwnWrites): number => self.bySandbox.size

export const entries = (self: OwnWrites): Iterable<readonly [string, Pod | null]> => self.bySandbox.entries()

const forget = (self: OwnWrites, podKey: string): void => {
  const write = self.byPod.get(podKey)
  if (write === undefined) return
  self.byPod.delete(podKey)
  self.bySandbox.delete(write.sandboxId)
}
