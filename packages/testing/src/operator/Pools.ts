import { SandboxPool } from "@agent-sandbox/domain"
import { KubeClient, Patch, ResourceType } from "@agent-sandbox/kube"
import { SandboxResources } from "@agent-sandbox/operator"
import { Effect, Schema } from "effect"

/** A SandboxPool with an inline template running `image` (KWOK never pulls it). */
export const createPool = (
  namespace: string,
  name: string,
  spec: Record<string, unknown> = {},
  image = "busybox:1.36",
) =>
  Effect.flatMap(KubeClient.KubeClient, (client) =>
    client.create(
      SandboxResources.SandboxPoolResource,
      // Decoded first: the client encodes through the Schema, defaults included.
      Schema.decodeUnknownSync(SandboxPool)({
        apiVersion: "sandbox.agent-sandbox.dev/v1alpha1",
        kind: "SandboxPool",
        metadata: { name, namespace },
        spec: {
          template: { podTemplate: { spec: { containers: [{ name: "sandbox", image }] } } },
          ...spec,
        },
      }),
      { namespace },
    ),
  )

export const poolPods = (namespace: string, pool: string) =>
  Effect.flatMap(KubeClient.KubeClient, (client) =>
    client.list(ResourceType.Pod, { namespace, labelSelector: `sandbox.agent-sandbox.dev/pool=${pool}` }),
  )

/** Replaces the pool's `spec.network` (a merge patch: give nulls to clear fields set before). */
export const setNetwork = (namespace: string, pool: string, network: Record<string, unknown>) =>
  Effect.flatMap(KubeClient.KubeClient, (client) =>
    client.patch(SandboxResources.SandboxPoolResource, pool, Patch.merge({ spec: { network } }), {
      namespace,
    }),
  )
