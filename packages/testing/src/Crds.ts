import { KubeClient, type KubeError, ResourceType } from "@agent-sandbox/kube"
import { Effect } from "effect"
import type { CustomResourceDefinition } from "kubernetes-types/apiextensions/v1.js"
import { eventually } from "./Eventually.ts"

const established = (crd: CustomResourceDefinition): boolean =>
  crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") ?? false

/**
 * Applies CRDs (server-side apply, forced: idempotent, and safe from several test workers at once)
 * and waits until the API server serves each of them.
 */
export const install = (
  crds: ReadonlyArray<{ readonly metadata?: { readonly name?: string | undefined } | undefined }>,
): Effect.Effect<void, KubeError.KubeError | string, KubeClient.KubeClient> =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    for (const crd of crds) {
      const name = crd.metadata?.name ?? ""
      yield* client.apply(ResourceType.CustomResourceDefinition, crd as KubeClient.ApplyObject, {
        force: true,
        fieldManager: "agent-sandbox-tests",
      })
      yield* eventually(
        Effect.flatMap(client.get(ResourceType.CustomResourceDefinition, name), (current) =>
          established(current) ? Effect.void : Effect.fail(`${name} is not established yet`),
        ),
      )
    }
  })
