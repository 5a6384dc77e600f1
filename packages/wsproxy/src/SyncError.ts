import { Schema } from "effect"

/**
 * What goes wrong between a hub and its members: a refused token (401 at the hub), a line the
 * member cannot read, a hub that cannot be reached or a sync token the member does not have.
 */
export class SyncError extends Schema.TaggedError<SyncError>()("SyncError", {
  reason: Schema.Literal("Unauthorized", "BadMessage", "HubUnavailable", "TokenMissing"),
  message: Schema.String,
}) {}
