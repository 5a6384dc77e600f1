/**
 * This cluster's allocated sandboxes as the extproc routes `<port>-<id>` to them: a watch of their
 * Pods (trimmed, indexed by sandbox id), a watch of the pools (whose `spec.portAccess` says whether
 * their ports are private), and the E2B token key (the Secret the operator makes), so a traffic
 * access token is checked here by deriving it again. All three are caches fed by watches, read
 * synchronously on the hot path: no request to the API server or the operator per request.
 */
import { type PortAccess, TrafficAccessToken } from "@agent-sandbox/domain"
import { Informer, type KubeClient, ResourceType } from "@agent-sandbox/kube"
import { Context, Effect, Layer } from "effect"
import * as LocalSandbox from "./LocalSandbox.ts"
import type { LocalLookup } from "./RouteDecision.ts"
import { SandboxPoolResource } from "./SandboxPoolResource.ts"

export class LocalSandboxes extends Context.Tag("@agent-sandbox/extproc/LocalSandboxes")<
  LocalSandboxes,
  { readonly lookup: LocalLookup }
>() {}

export interface LocalSandboxesOptions {
  /** Sandboxes (and pools) of this namespace only; every namespace when undefined. */
  readonly namespace: string | undefined
  /** Where the E2B token key's Secret is (the operator's system namespace); private ports stay shut without it. */
  readonly tokenKeyNamespace: string | undefined
}

const keyOf = (data: Readonly<Record<string, string>> | undefined): Uint8Array | undefined => {
  const encoded = data?.key
  const key = encoded === undefined ? undefined : Buffer.from(encoded, "base64")
  return key !== undefined && key.length >= 32 ? key : undefined
}

export const layer = (
  options: LocalSandboxesOptions,
): Layer.Layer<LocalSandboxes, never, KubeClient.KubeClient> =>
  Layer.scoped(
    LocalSandboxes,
    Effect.gen(function* () {
      const pods = yield* Informer.make(ResourceType.Pod, {
        namespace: options.namespace,
        labelSelector: LocalSandbox.labelSelector,
        transform: LocalSandbox.trim,
        indexers: { sandboxId: (pod) => pod.metadata?.labels?.[LocalSandbox.Label.sandboxId] },
      })
      const pools = yield* Informer.make(SandboxPoolResource, { namespace: options.namespace })
      const keys =
        options.tokenKeyNamespace === undefined
          ? undefined
          : yield* Informer.make(ResourceType.Secret, {
              namespace: options.tokenKeyNamespace,
              fieldSelector: `metadata.name=${TrafficAccessToken.keySecretName}`,
            })
      const tokenKey = () =>
        keyOf(keys?.store.unsafeGet(`${options.tokenKeyNamespace}/${TrafficAccessToken.keySecretName}`)?.data)
      const accessOf = (sandbox: LocalSandbox.LocalSandbox): PortAccess =>
        // A pool this extproc has not seen (yet) is treated as private: never open by mistake.
        pools.store.unsafeGet(`${sandbox.namespace}/${sandbox.pool}`)?.spec.portAccess ?? "Private"
      const lookup: LocalLookup = (sandboxId) => {
        const found = pods.store.unsafeByIndex("sandboxId", sandboxId)
        const pod = found === undefined ? undefined : [...found.values()][0]
        const sandbox = pod === undefined ? undefined : LocalSandbox.fromPod(pod)
        if (sandbox === undefined) return undefined
        return {
          sandbox,
          access: accessOf(sandbox),
          tokenAccepted: (token) => {
            const key = tokenKey()
            if (key === undefined) return "NoKey"
            return sandbox.nonce !== undefined && TrafficAccessToken.verify(key, sandbox.nonce, token)
          },
        }
      }
      // Routing before the first list would answer 404 for sandboxes that exist; an API server that
      // does not answer for 10 s is logged and the caches fill once it does.
      yield* Effect.all([pods.store.ready, pools.store.ready, keys?.store.ready ?? Effect.void]).pipe(
        Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => "not listed in 10 s" }),
        Effect.catchAll((why) => Effect.logWarning(`extproc: this cluster's sandboxes are ${why}`)),
      )
      return { lookup }
    }),
  )

/**
 * From a lookup given outright: an extproc that does not watch this cluster's Pods (every
 * `<port>-<id>` of this cluster is then 404), and the gRPC tests.
 */
export const layerFrom = (lookup: LocalLookup): Layer.Layer<LocalSandboxes> =>
  Layer.succeed(LocalSandboxes, { lookup })
