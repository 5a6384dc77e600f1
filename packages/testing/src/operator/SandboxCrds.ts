import { SandboxCrds } from "@agent-sandbox/domain"
import type { KubeClient, KubeError } from "@agent-sandbox/kube"
import { Effect, Either } from "effect"
import * as Crds from "../Crds.ts"

/** The sandbox CRDs, generated from the domain Schemas, applied and served. */
export const install: Effect.Effect<void, KubeError.KubeError | string, KubeClient.KubeClient> =
  Effect.flatMap(
    Either.match(SandboxCrds.all(), { onLeft: (error) => Effect.die(error), onRight: Effect.succeed }),
    Crds.install,
  )
