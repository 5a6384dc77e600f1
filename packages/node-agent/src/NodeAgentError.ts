import { Schema } from "effect"

/** Why the agent could not reach a sandbox's container (told to the caller as envd `unavailable`). */
export class NodeAgentError extends Schema.TaggedError<NodeAgentError>()("NodeAgentError", {
  reason: Schema.Literal("ContainerNotFound", "ContainerChanged", "RuntimeUnavailable", "BadSpec"),
  message: Schema.String,
}) {}
