import { type ClusterUnavailable, InvalidRequest, type SandboxNotFound } from "@agent-sandbox/domain"
import { type KubeClient, type KubeError, Patch, ResourceType, RetryOnConflict } from "@agent-sandbox/kube"
import { Clock, Effect } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"
import type { ClusterStateShape } from "../cluster/ClusterState.ts"
import * as SandboxPod from "../sandbox/SandboxPod.ts"
import { clusterUnavailable, findPool } from "./Allocate.ts"
import type { Caller } from "./Caller.ts"
import { notFound } from "./SandboxLookup.ts"

/**
 * Sets a sandbox to expire `timeoutSeconds` from now, within its pool's maximum: one write
 * conditional on the version read; on a conflict the Pod is read again, and must still hold the
 * sandbox. An expired sandbox is not brought back to life (its end may be on its way already): it
 * is not found, as after its end.
 */
export const make =
  (
    cluster: ClusterStateShape,
    client: KubeClient.KubeClientShape,
    find: (
      caller: Caller,
      sandboxId: string,
    ) => Effect.Effect<readonly [SandboxPod.SandboxPod, Pod], SandboxNotFound | ClusterUnavailable>,
  ) =>
  (
    caller: Caller,
    sandboxId: string,
    timeoutSeconds: number,
  ): Effect.Effect<
    readonly [SandboxPod.SandboxPod, Pod],
    SandboxNotFound | InvalidRequest | ClusterUnavailable
  > =>
    Effect.gen(function* () {
      const [sandbox, pod] = yield* find(caller, sandboxId)
      if (SandboxPod.hasExpired(sandbox, yield* Clock.currentTimeMillis))
        return yield* Effect.fail(notFound(sandboxId))
      const pool = yield* findPool(cluster, sandbox.namespace, sandbox.pool).pipe(
        Effect.mapError(() => notFound(sandboxId)),
      )
      const max = pool.spec.sandbox.maxTimeoutSeconds
      if (timeoutSeconds > max) {
        return yield* Effect.fail(
          new InvalidRequest({
            message: `timeoutSeconds ${timeoutSeconds} exceeds the pool's maximum of ${max}`,
          }),
        )
      }
      const now = yield* Clock.currentTimeMillis
      const expiresAt = now + timeoutSeconds * 1000
      const write = (current: Pod) => {
        const basedOn = current.metadata?.resourceVersion ?? ""
        return client
          .patch(
            ResourceType.Pod,
            current.metadata?.name ?? "",
            Patch.merge(SandboxPod.expiryPatch(basedOn, expiresAt)),
            {
              namespace: current.metadata?.namespace,
            },
          )
          .pipe(Effect.tap((patched) => cluster.rememberWrite(patched, basedOn)))
      }
      const reread = client
        .get(ResourceType.Pod, pod.metadata?.name ?? "", { namespace: pod.metadata?.namespace })
        .pipe(
          Effect.filterOrFail(
            (fresh) => {
              const current = SandboxPod.read(fresh)
              return (
                current?.sandboxId === sandboxId &&
                current.state === "allocated" &&
                !SandboxPod.hasExpired(current, now)
              )
            },
            () => notFound(sandboxId),
          ),
        )
      const patched = yield* RetryOnConflict.retryOnConflict(reread, write, {
        seen: pod,
        maxAttempts: 6,
      }).pipe(
        Effect.mapError((e: KubeError.KubeError | SandboxNotFound) =>
          e._tag === "SandboxNotFound"
            ? e
            : e.reason === "NotFound"
              ? notFound(sandboxId)
              : clusterUnavailable(e),
        ),
      )
      const updated = SandboxPod.read(patched)
      return updated === undefined ? yield* Effect.fail(notFound(sandboxId)) : ([updated, patched] as const)
    })
