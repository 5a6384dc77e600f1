/**
 * This cluster's allocated sandboxes as the extproc routes `<port>-<id>` to them: a watch of their
 * Pods (trimmed, indexed by sandbox id), a watch of the pools (whose `spec.portAccess` says whether
 * their ports are private), and the E2B token key (the Secret the operator makes), so a traffic
 * access token is checked here by deriving it again. All three are caches fed by watches, read
 * synchronously on the hot path: no request to the API server or the operator per request. Only a
 * sandbox the Pod cache lacks (claimed a moment ago, its watch event not here yet) is looked up once
 * from the API server before it is called unknown, bounded by MissLookups.
 */
import { type PortAccess, TrafficAccessToken } from "@agent-sandbox/domain"
import { Informer, KubeClient, ResourceType } from "@agent-sandbox/kube"
import { Context, Effect, Layer } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"
import { LocalPools } from "./LocalPools.ts"
import * as LocalSandbox from "./LocalSandbox.ts"
import * as MissLookups from "./MissLookups.ts"
import type { LocalLookup } from "./RouteDecision.ts"
import type * as TokenBucket from "./TokenBucket.ts"

export interface LocalSandboxesShape {
  /** From the caches: synchronous. */
  readonly lookup: LocalLookup
  /** For a sandbox `lookup` does not have: one bounded read from the API server. */
  readonly lookupMissed: MissLookups.Lookup<LocalSandbox.PortFacts>
}

export class LocalSandboxes extends Context.Tag("@agent-sandbox/extproc/LocalSandboxes")<
  LocalSandboxes,
  LocalSandboxesShape
>() {}

export interface LocalSandboxesOptions {
  /** Sandboxes (and pools) of this namespace only; every namespace when undefined. */
  readonly namespace: string | undefined
  /** Where the E2B token key's Secret is (the operator's system namespace); private ports stay shut without it. */
  readonly tokenKeyNamespace: string | undefined
  /** How often a sandbox missing from the cache may be looked up from the API server (all ids together). */
  readonly missLookups: TokenBucket.Limits
}

/** At most 10 lookups a second after a burst of 20: a claim storm is covered, a scan of random ids is not amplified. */
export const defaultMissLookups: TokenBucket.Limits = { perSecond: 10, burst: 20 }

const keyOf = (data: Readonly<Record<string, string>> | undefined): Uint8Array | undefined => {
  const encoded = data?.key
  const key = encoded === undefined ? undefined : Buffer.from(encoded, "base64")
  return key !== undefined && key.length >= 32 ? key : undefined
}

export const layer = (
  options: LocalSandboxesOptions,
): Layer.Layer<LocalSandboxes, never, KubeClient.KubeClient | LocalPools> =>
  Layer.scoped(
    LocalSandboxes,
    Effect.gen(function* () {
      const client = yield* KubeClient.KubeClient
      const pods = yield* Informer.make(ResourceType.Pod, {
        namespace: options.namespace,
        labelSelector: LocalSandbox.labelSelector,
        transform: LocalSandbox.trim,
        indexers: { sandboxId: (pod) => pod.metadata?.labels?.[LocalSandbox.Label.sandboxId] },
      })
      const pools = yield* LocalPools
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
      const factsOf = (pod: Pod | undefined): LocalSandbox.PortFacts | undefined => {
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
      const lookup: LocalLookup = (sandboxId) => {
        const found = pods.store.unsafeByIndex("sandboxId", sandboxId)
        return factsOf(found === undefined ? undefined : [...found.values()][0])
      }
      // A LIST by label (the id is a label, not the Pod's name) of at most one Pod.
      const lookupMissed = yield* MissLookups.make(
        options.missLookups,
        (sandboxId) =>
          client
            .list(ResourceType.Pod, {
              namespace: options.namespace,
              labelSelector: `${LocalSandbox.labelSelector},${LocalSandbox.Label.sandboxId}=${sandboxId}`,
            })
            .pipe(
              Effect.map((list) =>
                factsOf(list.items[0] === undefined ? undefined : LocalSandbox.trim(list.items[0])),
              ),
            ),
        (error) => error.message,
      )
      // Routing before the first list would answer 404 for sandboxes that exist; an API server that
      // does not answer for 10 s is logged and the caches fill once it does.
      yield* Effect.all([pods.store.ready, pools.store.ready, keys?.store.ready ?? Effect.void]).pipe(
        Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => "not listed in 10 s" }),
        Effect.catchAll((why) => Effect.logWarning(`extproc: this cluster's sandboxes are ${why}`)),
      )
      return { lookup, lookupMissed }
    }),
  )

/**
 * From a lookup given outright: an extproc that does not watch this cluster's Pods (every
 * `<port>-<id>` of this cluster is then 404), and the gRPC tests.
 */
export const layerFrom = (lookup: LocalLookup): Layer.Layer<LocalSandboxes> =>
  Layer.succeed(LocalSandboxes, { lookup, lookupMissed: (sandboxId) => Effect.sync(() => lookup(sandboxId)) })
