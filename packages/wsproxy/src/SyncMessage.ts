/**
 * The :9004 stream, one JSON object per line (NDJSON over a long-lived HTTP GET): a snapshot or the
 * changes a member missed, then every change as it happens, and a heartbeat when nothing happens.
 * Each snapshot and change carries the version the member resumes from (`?since=`).
 */
import { Schema } from "effect"
import { SyncError } from "./SyncError.ts"
import * as SyncObject from "./SyncObject.ts"

export const Snapshot = Schema.TaggedStruct("Snapshot", {
  version: Schema.String,
  objects: Schema.Array(SyncObject.SyncedObject),
})

export const Apply = Schema.TaggedStruct("Apply", {
  version: Schema.String,
  object: SyncObject.SyncedObject,
})

export const Delete = Schema.TaggedStruct("Delete", {
  version: Schema.String,
  ref: SyncObject.ObjectRef,
})

export const Heartbeat = Schema.TaggedStruct("Heartbeat", { version: Schema.String })

export const SyncMessage = Schema.Union(Snapshot, Apply, Delete, Heartbeat)
export type SyncMessage = typeof SyncMessage.Type

export const encode = (message: SyncMessage): string => `${JSON.stringify(message)}\n`

const decodeLine = Schema.decodeUnknownEither(Schema.parseJson(SyncMessage))

/** A line as a message, or the typed error a member reconnects on. */
export const parse = (line: string): SyncMessage | SyncError => {
  const result = decodeLine(line)
  return result._tag === "Right"
    ? result.right
    : new SyncError({
        reason: "BadMessage",
        message: `unreadable sync message: ${String(result.left.message).slice(0, 300)}`,
      })
}
