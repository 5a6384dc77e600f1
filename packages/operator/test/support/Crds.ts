import { SandboxCrds } from "@agent-sandbox/domain"
import type { KubeClient, KubeError } from "@agent-sandbox/kube"
import { Crds } from "@agent-sandbox/testing"
import { Effect, Either } from "effect"

/** The sandbox CRDs, from the domain Schemas, applied (idempotently) and served. */
export const installCrds: Effect.Effect<void, KubeError.KubeError | string, KubeClient.KubeClient> =
  Effect.flatMap(
    Either.match(SandboxCrds.all(), { onLeft: (error) => Effect.die(error), onRight: Effect.succeed }),
    Crds.install,
  )
