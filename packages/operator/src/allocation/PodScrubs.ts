/**
 * Clears the Pod-level state of Pods recycled in place before they are offered again: each Pod
 * the watch shows idle, Ready on its restarted container and marked by the recycle
 * (Recycle.scrubDue) is handed to its node agent (PodStateScrubber); once the agent says it is
 * clean, one write conditional on the version scrubbed removes the mark and the warm queue takes
 * the Pod. A failure or a timeout deletes the Pod instead (reason ScrubFailed): a Pod that may hold
 * the last tenant's leftovers is never offered. Level-based: a replica that starts (or a write
 * that conflicted) finds the marked Pods again in the watch.
 */
import { KubeClient, ObjectRef, Patch, ResourceType, type WatcherEvent } from "@agent-sandbox/kube"
import { Duration, Effect, FiberMap, Layer } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"
import { ClusterState } from "../cluster/ClusterState.ts"
import * as OperatorMetrics from "../metrics/OperatorMetrics.ts"
import * as Recycle from "../sandbox/Recycle.ts"
import * as SandboxPod from "../sandbox/SandboxPod.ts"
import { PodStateScrubber } from "./PodStateScrubber.ts"

export interface PodScrubsOptions {
  /** How long the agent may take to say a Pod is clean before the Pod is deleted (default 30 s). */
  readonly timeout?: Duration.DurationInput | undefined
}

export const make = (options: PodScrubsOptions = {}) =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    const cluster = yield* ClusterState
    const scrubber = yield* PodStateScrubber
    const timeout = Duration.decode(options.timeout ?? "30 seconds")
    const running = yield* FiberMap.make<string>()

    const deleteUnclean = (sandbox: SandboxPod.SandboxPod, why: string) =>
      Effect.gen(function* () {
        const reason: Recycle.DeleteReason = "ScrubFailed"
        yield* Effect.logWarning(
          `Pod ${sandbox.namespace}/${sandbox.name} deleted (${reason}): its Pod-level state was not cleared: ${why}`,
        )
        yield* client
          .delete(ResourceType.Pod, sandbox.name, {
            namespace: sandbox.namespace,
            preconditions: { uid: sandbox.uid, resourceVersion: sandbox.resourceVersion },
          })
          .pipe(
            Effect.tap(() =>
              OperatorMetrics.sandboxEnds.inc({ namespace: sandbox.namespace, result: "scrub_failed" }),
            ),
            // Gone or changed meanwhile (another replica scrubbed it first): the watch decides again.
            Effect.catchIf(
              (e) => e.reason === "NotFound" || e.reason === "Conflict",
              () => Effect.void,
            ),
          )
      })

    const scrub = (sandbox: SandboxPod.SandboxPod) =>
      scrubber
        .scrub({
          namespace: sandbox.namespace,
          pod: sandbox.name,
          podUid: sandbox.uid,
          node: sandbox.nodeName ?? "",
          container: sandbox.containerName,
          containerId: sandbox.containerId,
        })
        .pipe(
          Effect.timeoutFail({
            duration: timeout,
            onTimeout: () => `the node agent did not answer within ${Duration.format(timeout)}`,
          }),
          Effect.matchEffect({
            onFailure: (error) => deleteUnclean(sandbox, typeof error === "string" ? error : error.message),
            onSuccess: () =>
              client
                .patch(
                  ResourceType.Pod,
                  sandbox.name,
                  Patch.strategic(Recycle.scrubbedPatch(sandbox.resourceVersion)),
                  { namespace: sandbox.namespace },
                )
                .pipe(
                  Effect.asVoid,
                  // Changed meanwhile: the watch brings the new version, scrubbed again if still due.
                  Effect.catchIf(
                    (e) => e.reason === "NotFound" || e.reason === "Conflict",
                    () => Effect.void,
                  ),
                ),
          }),
          Effect.catchAll((error) =>
            Effect.logWarning(`clearing Pod ${sandbox.namespace}/${sandbox.name}: ${error.message}`),
          ),
          Effect.withSpan("PodScrubs.scrub"),
        )

    const consider = (pod: Pod) => {
      const sandbox = SandboxPod.read(pod)
      if (sandbox === undefined || !Recycle.scrubDue(sandbox) || !cluster.isPoolsOwn(pod)) return Effect.void
      // One scrub per Pod at a time; a later version still due is taken up by its own event.
      return FiberMap.run(running, ObjectRef.keyOf(pod), scrub(sandbox), { onlyIfMissing: true }).pipe(
        Effect.asVoid,
      )
    }

    yield* cluster.pods.listen(
      (event: WatcherEvent.WatcherEvent<Pod>) =>
        event._tag === "Apply" || event._tag === "InitApply" ? consider(event.object) : Effect.void,
      { replay: true },
    )
  })

/** The scrubbing of recycled Pods, on every replica (for the pools it owns Pods of). */
export const layer = (options: PodScrubsOptions = {}) => Layer.scopedDiscard(make(options))
