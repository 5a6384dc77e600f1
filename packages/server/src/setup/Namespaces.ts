import { KubeClient, ResourceType } from "@agent-sandbox/kube"
import { Effect } from "effect"

/** Creates the namespace unless it exists. */
export const ensureNamespace = (name: string) =>
  Effect.flatMap(KubeClient.KubeClient, (client) =>
    client.create(ResourceType.Namespace, { apiVersion: "v1", kind: "Namespace", metadata: { name } }).pipe(
      Effect.asVoid,
      Effect.catchIf(
        (e) => e.reason === "AlreadyExists",
        () => Effect.void,
      ),
    ),
  )
