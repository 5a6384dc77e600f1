import { SandboxCrds } from "@agent-sandbox/domain"
import { KubeClient, type KubeError, ResourceType } from "@agent-sandbox/kube"
import { Eventually } from "@agent-sandbox/testing"
import { Effect, Either } from "effect"

/** The sandbox CRDs, from the domain Schemas, applied (idempotently) and served. */
export const installCrds: Effect.Effect<void, KubeError.KubeError | string, KubeClient.KubeClient> =
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    const crds = yield* Either.match(SandboxCrds.all(), {
      onLeft: (error) => Effect.die(error),
      onRight: Effect.succeed,
    })
    for (const crd of crds) {
      yield* client.apply(ResourceType.CustomResourceDefinition, crd as unknown as KubeClient.ApplyObject, {
        force: true,
        fieldManager: "agent-sandbox-tests",
      })
      yield* Eventually.eventually(
        Effect.flatMap(
          client.get(ResourceType.CustomResourceDefinition, crd.metadata?.name ?? ""),
          (current) =>
            current.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")
              ? Effect.void
              : Effect.fail("not established"),
        ),
      )
    }
  })
