/**
 * The key the E2B server signs node agent grants with (see envd's NodeAgentGrant): its own Secret
 * in the system namespace, apart from the access-token key, so an agent (which mounts it) learns
 * nothing that would let it derive a sandbox's access token. Deleting the Secret and restarting
 * the servers and agents rotates it.
 */
import type { KubeClient, KubeError } from "@agent-sandbox/kube"
import { Context, Effect, Layer } from "effect"
import { sharedKey } from "./AccessTokenKey.ts"

export class NodeAgentGrantKey extends Context.Tag("@agent-sandbox/server/e2b/NodeAgentGrantKey")<
  NodeAgentGrantKey,
  { readonly key: Uint8Array }
>() {}

export const secretName = "agent-sandbox-node-agent-grant-key"

export const layer = (
  namespace: string,
): Layer.Layer<NodeAgentGrantKey, KubeError.KubeError | string, KubeClient.KubeClient> =>
  Layer.effect(
    NodeAgentGrantKey,
    Effect.map(sharedKey(namespace, secretName), (key) => ({ key })),
  )
