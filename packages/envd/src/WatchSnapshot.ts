/**
 * Directory watching by polling: the watch script prints snapshots of the tree (see
 * ShellScript.watchArgv) and the difference of two snapshots becomes envd's events. Without
 * inotify a rename shows as remove + create, and changes within one mtime second that keep
 * the size are seen only if the inode changes.
 */
import { EventType } from "./gen/filesystem/filesystem_pb.ts"

export interface SnapshotEntry {
  readonly rawMode: number
  readonly size: string
  readonly mtime: string
  readonly inode: string
}

/** Relative path (no leading "./") -> what we know of it. */
export type Snapshot = ReadonlyMap<string, SnapshotEntry>

export interface WatchEvent {
  readonly name: string
  readonly type: EventType
}

const line = /^W ([0-9a-fA-F]+) (\d+) (-?\d+) (\d+) (.*)$/

/** One snapshot from the lines between two "." markers. */
export const parseSnapshot = (lines: ReadonlyArray<string>): Snapshot => {
  const snapshot = new Map<string, SnapshotEntry>()
  for (const text of lines) {
    const match = line.exec(text)
    if (match === null) continue
    const [, mode, size, mtime, inode, path] = match
    const name = path!.startsWith("./") ? path!.slice(2) : path!
    snapshot.set(name, { rawMode: Number.parseInt(mode!, 16), size: size!, mtime: mtime!, inode: inode! })
  }
  return snapshot
}

const isDirectory = (entry: SnapshotEntry): boolean => (entry.rawMode & 0o170000) === 0o040000

/** Events that turn `before` into `after`, in path order; removals first. */
export const diffSnapshots = (before: Snapshot, after: Snapshot): Array<WatchEvent> => {
  const removed: Array<WatchEvent> = []
  const changed: Array<WatchEvent> = []
  for (const name of [...before.keys()].sort()) {
    if (!after.has(name)) removed.push({ name, type: EventType.REMOVE })
  }
  for (const name of [...after.keys()].sort()) {
    const now = after.get(name)!
    const was = before.get(name)
    if (
      was === undefined ||
      was.inode !== now.inode ||
      (was.rawMode & 0o170000) !== (now.rawMode & 0o170000)
    ) {
      if (was !== undefined) removed.push({ name, type: EventType.REMOVE })
      changed.push({ name, type: EventType.CREATE })
      // A file that already has content when first seen was also written.
      if (!isDirectory(now) && now.size !== "0") changed.push({ name, type: EventType.WRITE })
      continue
    }
    // A directory's own size/mtime change when entries come and go; those have their own events.
    if (!isDirectory(now) && (was.size !== now.size || was.mtime !== now.mtime)) {
      changed.push({ name, type: EventType.WRITE })
    }
    if ((was.rawMode & 0o7777) !== (now.rawMode & 0o7777)) changed.push({ name, type: EventType.CHMOD })
  }
  return [...removed, ...changed]
}

/** Splits the watch script's output stream into snapshots (each ends with a "." line). */
export interface SnapshotSplitter {
  readonly pending: string
  readonly lines: ReadonlyArray<string>
}

export const emptySplitter: SnapshotSplitter = { pending: "", lines: [] }

export const splitSnapshots = (
  splitter: SnapshotSplitter,
  text: string,
): { readonly splitter: SnapshotSplitter; readonly snapshots: Array<Snapshot> } => {
  const parts = (splitter.pending + text).split("\n")
  const pending = parts.pop()!
  const snapshots: Array<Snapshot> = []
  let lines = [...splitter.lines]
  for (const part of parts) {
    if (part === ".") {
      snapshots.push(parseSnapshot(lines))
      lines = []
    } else {
      lines.push(part)
    }
  }
  return { splitter: { pending, lines }, snapshots }
}
