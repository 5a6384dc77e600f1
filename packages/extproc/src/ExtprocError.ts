import { Schema } from "effect"

/** The extproc could not start or was misconfigured: a port taken, a bad config file or address. */
export class ExtprocError extends Schema.TaggedError<ExtprocError>()("ExtprocError", {
  reason: Schema.Literal("Listen", "Config", "Gateway"),
  message: Schema.String,
}) {}
