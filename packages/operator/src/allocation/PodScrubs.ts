/**
 * Clears the Pod-level state of Pods recycled in place before they are offered again: each Pod
 * the watch shows idle, Ready on its restarted container and marked by the recycle
 * (Recycle.scrubDue) is handed to its node agent (PodStateScrubber); once the agent says it is
 * clean, one write conditional on the version scrubbed removes the mark and the warm queue takes
 * the Pod. A failure or a timeout deletes the Pod instead (reason ScrubFailed): a Pod that may hold
 * the last tenant's leftovers is never offered.
 *
 * Only the leader scrubs, so a Pod is scrubbed once, not once per replica. The leader rather than
 * the replica that wrote the recycle: that replica may die before its scrub ends, and nothing
 * would then take the Pod up again, while leadership always passes on. Level-based: a new leader
 * (or a write that conflicted) finds the marked Pods again in the watch; a leader that loses the
 * Lease mid-scrub stops, and its successor asks the agent again (a scrub is idempotent).
 */
import {
  KubeClient,
  LeaderElection,
  ObjectRef,
  Patch,
  ResourceType,
  type WatcherEvent,
} from "@agent-sandbox/kube"
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

/** Looks at one Pod this often at most per event (a conflict, a failed write: the latest version again). */
const maxAttempts = 5
const retryDelay = "500 millis"

export const make = (options: PodScrubsOptions = {}) =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    const cluster = yield* ClusterState
    const scrubber = yield* PodStateScrubber
    const election = yield* LeaderElection.LeaderElection
    const timeout = Duration.decode(options.timeout ?? "30 seconds")

    /** Whether to look again: the Pod changed under a write, or the API server failed it. */
    type Again = boolean
    const settled = <A, E extends { readonly reason: string }, R>(
      write: Effect.Effect<A, E, R>,
    ): Effect.Effect<Again, never, R> =>
      write.pipe(
        Effect.as(false),
        Effect.catchIf(
          (e) => e.reason === "NotFound",
          () => Effect.succeed(false),
        ),
        // Changed meanwhile (another replica's write, a status update): decided again on its latest version.
        Effect.catchIf(
          (e) => e.reason === "Conflict",
          () => Effect.succeed(true),
        ),
        Effect.catchAll((e) =>
          Effect.as(Effect.logWarning(`a write after a scrub failed: ${e.reason}`), true),
        ),
      )

    const deleteUnclean = (sandbox: SandboxPod.SandboxPod, why: string) =>
      Effect.gen(function* () {
        const reason: Recycle.DeleteReason = "ScrubFailed"
        yield* Effect.logWarning(
          `Pod ${sandbox.namespace}/${sandbox.name} deleted (${reason}): its Pod-level state was not cleared: ${why}`,
        )
        return yield* client
          .delete(ResourceType.Pod, sandbox.name, {
            namespace: sandbox.namespace,
            preconditions: { uid: sandbox.uid, resourceVersion: sandbox.resourceVersion },
          })
          .pipe(
            Effect.tap(() =>
              OperatorMetrics.sandboxEnds.inc({ namespace: sandbox.namespace, result: "scrub_failed" }),
            ),
            settled,
          )
      })

    const scrubOnce = (sandbox: SandboxPod.SandboxPod): Effect.Effect<Again> =>
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
                .pipe(settled),
          }),
          Effect.withSpan("PodScrubs.scrub"),
        )

    /**
     * Scrubs the Pod `key` as the cache shows it now, while it is due: events of the Pod that come
     * while a scrub runs are not acted on, so a write that met a newer version (or failed) looks
     * again at the latest one, a few times at most (then the Pod's next event does).
     */
    const scrubLatest = (key: string): Effect.Effect<void> =>
      Effect.iterate(
        { again: true, attempts: 0 },
        {
          while: (s) => s.again && s.attempts < maxAttempts,
          body: (s) =>
            Effect.gen(function* () {
              if (s.attempts > 0) yield* Effect.sleep(retryDelay)
              const pod = cluster.pods.store.unsafeGet(key)
              const sandbox = pod === undefined ? undefined : SandboxPod.read(pod)
              if (
                pod === undefined ||
                sandbox === undefined ||
                !Recycle.scrubDue(sandbox) ||
                !cluster.isPoolsOwn(pod)
              )
                return { again: false, attempts: s.attempts + 1 }
              return { again: yield* scrubOnce(sandbox), attempts: s.attempts + 1 }
            }),
        },
      ).pipe(Effect.asVoid)

    // Every scrub runs in this scope: losing the Lease interrupts them all.
    const whileLeader = Effect.scoped(
      Effect.gen(function* () {
        const running = yield* FiberMap.make<string>()
        const consider = (pod: Pod) => {
          const sandbox = SandboxPod.read(pod)
          if (sandbox === undefined || !Recycle.scrubDue(sandbox) || !cluster.isPoolsOwn(pod))
            return Effect.void
          // One scrub per Pod at a time.
          const key = ObjectRef.keyOf(pod)
          return FiberMap.run(running, key, scrubLatest(key), { onlyIfMissing: true }).pipe(Effect.asVoid)
        }
        // Replayed: the Pods marked before this replica led (by itself or another) are found too.
        yield* cluster.pods.listen(
          (event: WatcherEvent.WatcherEvent<Pod>) =>
            event._tag === "Apply" || event._tag === "InitApply" ? consider(event.object) : Effect.void,
          { replay: true },
        )
        return yield* Effect.never
      }),
    )
    yield* Effect.forkScoped(election.runWhileLeader(whileLeader))
  })

/** The scrubbing of recycled Pods, on the leader only (for the pools whose Pods it owns). */
export const layer = (options: PodScrubsOptions = {}) => Layer.scopedDiscard(make(options))
