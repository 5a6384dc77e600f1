import { ClusterUnavailable, SandboxImageFailed, SandboxStartupTimeout } from "@agent-sandbox/domain"
import { Duration, Effect, Either, Option } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"
import type { ClusterStateShape } from "../cluster/ClusterState.ts"
import * as SandboxPod from "../sandbox/SandboxPod.ts"

type Decided = Option.Option<
  Either.Either<readonly [SandboxPod.SandboxPod, Pod], ClusterUnavailable | SandboxImageFailed>
>

/**
 * Whether a version of a claimed Pod settles its image switch (pure): Ready on the new image, or a
 * failure the kubelet reports (a pull that fails), or the sandbox gone. `seenOurs` tells whether
 * an earlier version already carried this claim (the cache may still hold the one before it).
 */
export const judge = (
  claimed: SandboxPod.SandboxPod,
  image: string,
  pod: Pod | undefined,
  seenOurs: boolean,
): { readonly decided: Decided; readonly seenOurs: boolean } => {
  const gone = Option.some(
    Either.left(
      new ClusterUnavailable({ message: `sandbox ${claimed.sandboxId} ended while its image was starting` }),
    ),
  )
  const sandbox = pod === undefined ? undefined : SandboxPod.read(pod)
  if (pod === undefined || sandbox === undefined) return { decided: gone, seenOurs }
  if (sandbox.sandboxId !== claimed.sandboxId) return { decided: seenOurs ? gone : Option.none(), seenOurs }
  if (sandbox.ready) return { decided: Option.some(Either.right([sandbox, pod] as const)), seenOurs: true }
  if (sandbox.imageStatus._tag === "Failing") {
    const { reason, message } = sandbox.imageStatus
    return {
      decided: Option.some(
        Either.left(
          new SandboxImageFailed({
            image,
            reason,
            message: `image ${image} cannot run: ${reason}: ${message}`,
          }),
        ),
      ),
      seenOurs: true,
    }
  }
  return { decided: Option.none(), seenOurs: true }
}

/**
 * Waits until a claimed sandbox runs its new image and is Ready, as the watch shows it; the
 * kubelet's own report fails it early, the deadline bounds it.
 */
export const untilReady = (
  cluster: ClusterStateShape,
  claimed: SandboxPod.SandboxPod,
  image: string,
  timeoutSeconds: number,
): Effect.Effect<
  readonly [SandboxPod.SandboxPod, Pod],
  ClusterUnavailable | SandboxImageFailed | SandboxStartupTimeout
> =>
  Effect.suspend(() => {
    let seenOurs = false
    return cluster
      .awaitPod(claimed, (pod) => {
        const judged = judge(claimed, image, pod, seenOurs)
        seenOurs = judged.seenOurs
        return judged.decided
      })
      .pipe(
        Effect.timeoutFail({
          duration: Duration.seconds(timeoutSeconds),
          onTimeout: () =>
            new SandboxStartupTimeout({
              image,
              timeoutSeconds,
              message: `sandbox ${claimed.sandboxId} was not Ready on image ${image} within ${timeoutSeconds}s`,
            }),
        }),
      )
  })
