import { ApiGroup, ClusterUnavailable, PoolNotFound, PoolScale, SandboxApi } from "@agent-sandbox/domain"
import { KubeClient, Patch, type ResourceType } from "@agent-sandbox/kube"
import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { requireAdmin } from "./AdminOnly.ts"

/** The SandboxPool's scale subresource: what HPA and KEDA drive, reached without the pool's schema. */
const sandboxPools: ResourceType.ResourceInfo = {
  apiVersion: ApiGroup.apiVersion,
  kind: ApiGroup.kinds.SandboxPool,
  plural: ApiGroup.plurals.SandboxPool,
  namespaced: true,
}

/** POST /v1/pools/{namespace}/{name}/scale: one merge patch of the pool's scale subresource. */
export const poolAdminLayer = HttpApiBuilder.group(SandboxApi, "poolAdmin", (handlers) =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    return handlers.handle("scalePool", ({ path, payload }) =>
      Effect.gen(function* () {
        yield* requireAdmin
        const scale = yield* client
          .patchScale(sandboxPools, path.name, Patch.merge({ spec: { replicas: payload.replicas } }), {
            namespace: path.namespace,
          })
          .pipe(
            Effect.mapError((error) =>
              error.reason === "NotFound"
                ? new PoolNotFound({
                    namespace: path.namespace,
                    pool: path.name,
                    message: `no SandboxPool ${path.namespace}/${path.name}`,
                  })
                : new ClusterUnavailable({ message: `scaling the pool failed: ${error.message}` }),
            ),
          )
        return new PoolScale({
          namespace: path.namespace,
          name: path.name,
          replicas: scale.spec?.replicas ?? payload.replicas,
        })
      }),
    )
  }),
)
