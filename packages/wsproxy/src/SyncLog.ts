/**
 * The hub's versioned copy of what it syncs (pure): the objects by key, a sequence number bumped by
 * every change, and the latest changes, bounded. A member that comes back with a version of this
 * hub's run that the log still covers gets the changes after it; any other gets a snapshot.
 * Versions are `<epoch>.<seq>`: the epoch is random per hub run, so a restarted hub never mistakes
 * a member's version for one of its own.
 */
import * as SyncObject from "./SyncObject.ts"

export interface Entry {
  /** Which watch the object came from (kind and namespace): a relist replaces one source's set. */
  readonly source: string
  readonly object: SyncObject.SyncedObject
  /** The object as JSON, to tell a real change from a resync. */
  readonly json: string
}

export type Change =
  | { readonly _tag: "Apply"; readonly seq: number; readonly object: SyncObject.SyncedObject }
  | { readonly _tag: "Delete"; readonly seq: number; readonly ref: SyncObject.ObjectRef }

export interface SyncLog {
  readonly epoch: string
  readonly seq: number
  readonly objects: ReadonlyMap<string, Entry>
  /** The latest changes, oldest first, at most `maxChanges`. */
  readonly changes: ReadonlyArray<Change>
  readonly maxChanges: number
  /** Sources that have listed at least once; the hub serves once every source has. */
  readonly listed: ReadonlySet<string>
}

export const empty = (epoch: string, maxChanges: number): SyncLog => ({
  epoch,
  seq: 0,
  objects: new Map(),
  changes: [],
  maxChanges,
  listed: new Set(),
})

export const versionOf = (log: SyncLog, seq: number = log.seq): string => `${log.epoch}.${seq}`

const record = (log: SyncLog, objects: Map<string, Entry>, change: Change): SyncLog => {
  const changes = [...log.changes, change]
  return {
    ...log,
    seq: change.seq,
    objects,
    changes: changes.length > log.maxChanges ? changes.slice(changes.length - log.maxChanges) : changes,
  }
}

/** The object added or changed; the log unchanged when it is the same as before. */
export const upsert = (log: SyncLog, source: string, object: SyncObject.SyncedObject): SyncLog => {
  const key = SyncObject.keyOf(SyncObject.refOf(object))
  const json = JSON.stringify(object)
  if (log.objects.get(key)?.json === json) return log
  const objects = new Map(log.objects)
  objects.set(key, { source, object, json })
  return record(log, objects, { _tag: "Apply", seq: log.seq + 1, object })
}

export const remove = (log: SyncLog, ref: SyncObject.ObjectRef): SyncLog => {
  const key = SyncObject.keyOf(ref)
  if (!log.objects.has(key)) return log
  const objects = new Map(log.objects)
  objects.delete(key)
  return record(log, objects, { _tag: "Delete", seq: log.seq + 1, ref })
}

/** A source's full list (after a watch's list or relist): upserts what it holds, removes what it dropped. */
export const replaceSource = (
  log: SyncLog,
  source: string,
  objects: ReadonlyArray<SyncObject.SyncedObject>,
): SyncLog => {
  const keep = new Set(objects.map((object) => SyncObject.keyOf(SyncObject.refOf(object))))
  let next = log
  for (const [key, entry] of log.objects) {
    if (entry.source === source && !keep.has(key)) next = remove(next, SyncObject.refOf(entry.object))
  }
  for (const object of objects) next = upsert(next, source, object)
  return next.listed.has(source) ? next : { ...next, listed: new Set([...next.listed, source]) }
}

export const isReady = (log: SyncLog, sources: ReadonlyArray<string>): boolean =>
  sources.every((source) => log.listed.has(source))

export type CatchUp =
  | { readonly _tag: "Snapshot" }
  | { readonly _tag: "Changes"; readonly changes: ReadonlyArray<Change> }

/** What a member at `since` (a version, or none) needs to be current. */
export const catchUp = (log: SyncLog, since: string | undefined): CatchUp => {
  if (since === undefined) return { _tag: "Snapshot" }
  const dot = since.lastIndexOf(".")
  const seq = Number(since.slice(dot + 1))
  if (
    dot <= 0 ||
    since.slice(0, dot) !== log.epoch ||
    !Number.isSafeInteger(seq) ||
    seq < 0 ||
    seq > log.seq
  ) {
    return { _tag: "Snapshot" }
  }
  const missing = log.seq - seq
  if (missing > log.changes.length) return { _tag: "Snapshot" }
  return { _tag: "Changes", changes: log.changes.slice(log.changes.length - missing) }
}

/** Changes after `seq`, for a member that is following; a snapshot when the log no longer has them. */
export const after = (log: SyncLog, seq: number): CatchUp => catchUp(log, versionOf(log, seq))

export const snapshotObjects = (log: SyncLog): ReadonlyArray<SyncObject.SyncedObject> =>
  [...log.objects.values()].map((entry) => entry.object)
