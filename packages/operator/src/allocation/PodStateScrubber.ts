/**
 * Who clears what a recycle in place leaves of a tenant in its Pod rather than its container:
 * files in /dev/shm and SysV shared memory, message queues and semaphore sets in the Pod's IPC
 * namespace. The operator cannot reach into a node; the node agent of the Pod's node can, and the
 * front door that knows the agents (the E2B server: their Leases, the key it signs their grants
 * with) provides the service. Without one (`layerNone`) no node is served, so Recycle.decide
 * deletes instead of recycling in place unless the pool accepts carrying the state over.
 */
import { Context, Effect, Layer, Schema } from "effect"

/** The Pod to clear, as the operator saw it Ready after the recycle's restart. */
export interface ScrubTarget {
  readonly namespace: string
  readonly pod: string
  readonly podUid: string
  readonly node: string
  /** The sandbox container, and the id of the container the restart started (none of the last tenant's). */
  readonly container: string
  readonly containerId: string
}

export class PodStateScrubError extends Schema.TaggedError<PodStateScrubError>()("PodStateScrubError", {
  reason: Schema.Literal("NoAgent", "Refused", "Failed", "Unreachable", "TimedOut"),
  message: Schema.String,
}) {}

export interface PodStateScrubberShape {
  /** Whether a live agent serves `node` now (so a recycle in place can be proven clean). */
  readonly serves: (node: string | undefined) => Effect.Effect<boolean>
  /** Clears the Pod's own state; succeeds only once the agent said it is clean. */
  readonly scrub: (target: ScrubTarget) => Effect.Effect<void, PodStateScrubError>
}

export class PodStateScrubber extends Context.Tag("@agent-sandbox/operator/PodStateScrubber")<
  PodStateScrubber,
  PodStateScrubberShape
>() {}

/** No node agents: no node is served, nothing can be scrubbed. */
export const layerNone: Layer.Layer<PodStateScrubber> = Layer.succeed(PodStateScrubber, {
  serves: () => Effect.succeed(false),
  scrub: (target) =>
    Effect.fail(
      new PodStateScrubError({
        reason: "NoAgent",
        message: `no node agent serves node ${target.node} to clear Pod ${target.namespace}/${target.pod}`,
      }),
    ),
})
