import { type TenantShape, Unauthorized } from "@agent-sandbox/domain"
import { KubeClient, type KubeError, ResourceType, Store, Watcher } from "@agent-sandbox/kube"
import { Context, Effect, Layer, Stream } from "effect"
import type { Secret } from "kubernetes-types/core/v1.js"
import type * as TenantPolicy from "../tenancy/TenantPolicy.ts"
import * as ApiKey from "./ApiKey.ts"

/** The API keys in force, from a watch of the key Secrets: a revoked key stops working at once. */
export interface ApiKeysShape {
  readonly authenticate: (key: string) => Effect.Effect<TenantShape, Unauthorized>
  /** Mints a key for a tenant and records its hash; the key is returned once and never stored. */
  readonly mint: (
    tenant: string,
    admin: boolean,
    policy?: ApiKey.PolicyData,
  ) => Effect.Effect<string, KubeError.KubeError>
  /** The keys in force (this replica's watch), without the keys themselves. */
  readonly list: Effect.Effect<ReadonlyArray<ApiKey.ListedKey>>
  /** Deletes the key's Secret; it stops working here at once and on other replicas once their watch sees it. */
  readonly revoke: (id: string) => Effect.Effect<boolean, KubeError.KubeError>
  readonly ready: Effect.Effect<void>
}

export class ApiKeys extends Context.Tag("@agent-sandbox/server/ApiKeys")<ApiKeys, ApiKeysShape>() {}

const unauthorized = new Unauthorized({ message: "a valid API key is required (X-API-Key header)" })

/** Keys are read from the Secrets in `namespace`; `defaults` fill in what a key's Secret leaves out. */
export const layer = (
  namespace: string,
  defaults: TenantPolicy.TenantDefaults,
): Layer.Layer<ApiKeys, never, KubeClient.KubeClient> =>
  Layer.scoped(
    ApiKeys,
    Effect.gen(function* () {
      const client = yield* KubeClient.KubeClient
      const writer = yield* Store.makeWriter<Secret>()
      const byHash = new Map<string, ApiKey.ActiveKey>()
      const rebuild = Effect.flatMap(writer.store.list, (secrets) =>
        Effect.sync(() => {
          byHash.clear()
          for (const secret of secrets) {
            const entry = ApiKey.activeFromSecret(secret, defaults)
            if (entry !== undefined) byHash.set(entry.sha256, entry)
          }
        }),
      )
      yield* Watcher.watcherWithBackoff(ResourceType.Secret, {
        namespace,
        labelSelector: `${ApiKey.apiKeyLabel}=true`,
      }).pipe(
        Stream.tap(writer.apply),
        Stream.runForEach((event) =>
          event._tag === "InitApply" || event._tag === "Init" ? Effect.void : rebuild,
        ),
        Effect.forkScoped,
      )
      return {
        ready: writer.store.ready,
        list: Effect.map(writer.store.list, (secrets) =>
          secrets.flatMap((secret) => {
            const listed = ApiKey.listed(secret)
            return listed === undefined ? [] : [listed]
          }),
        ),
        revoke: (id) =>
          ApiKey.isKeyId(id)
            ? client.delete(ResourceType.Secret, ApiKey.secretName(id), { namespace }).pipe(
                Effect.tap(() =>
                  Effect.sync(() => {
                    for (const hash of byHash.keys()) if (hash.startsWith(id)) byHash.delete(hash)
                  }),
                ),
                Effect.as(true),
                Effect.catchIf(
                  (e) => e.reason === "NotFound",
                  () => Effect.succeed(false),
                ),
              )
            : Effect.succeed(false),
        // After the key Secrets are first listed: a replica just started must not refuse a key
        // it has not read yet (a caller would see 401 for a valid key).
        authenticate: (key) =>
          Effect.zipRight(
            writer.store.ready,
            Effect.suspend(() => {
              if (!ApiKey.isWellFormed(key)) return Effect.fail(unauthorized)
              const entry = byHash.get(ApiKey.hash(key))
              return entry === undefined
                ? Effect.fail(unauthorized)
                : Effect.succeed({
                    name: entry.tenant,
                    admin: entry.admin,
                    pools: entry.policy.pools,
                    quotas: entry.policy.quotas,
                  })
            }),
          ),
        mint: (tenant, admin, policy) =>
          Effect.suspend(() => {
            const key = ApiKey.mint()
            return client
              .create(
                ResourceType.Secret,
                ApiKey.toSecret(namespace, { tenant, admin, sha256: ApiKey.hash(key) }, policy),
                {
                  namespace,
                },
              )
              .pipe(Effect.as(key))
          }),
      }
    }),
  )
