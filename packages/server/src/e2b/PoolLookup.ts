/** Pools and their templates, from the operator's cache. */
import type { SandboxPool, SandboxTemplateSpec } from "@agent-sandbox/domain"
import { PodIndex, type SandboxCache } from "@agent-sandbox/operator"
import { Effect, Option } from "effect"

export const findPool = (
  cache: SandboxCache.SandboxCacheShape,
  namespace: string,
  pool: string,
): Effect.Effect<SandboxPool | undefined> =>
  Effect.map(cache.pools.get(PodIndex.poolKey(namespace, pool)), Option.getOrUndefined)

const templateOf = (cache: SandboxCache.SandboxCacheShape, pool: SandboxPool) =>
  pool.spec.template !== undefined
    ? Effect.succeed(pool.spec.template as SandboxTemplateSpec)
    : Effect.map(cache.templates.get(pool.spec.templateRef?.name ?? ""), (t) =>
        Option.getOrUndefined(Option.map(t, (template) => template.spec)),
      )

/** The container the pool's template runs sandboxes in (undefined: the Pod's first container). */
export const containerNameOf =
  (cache: SandboxCache.SandboxCacheShape) =>
  (namespace: string, pool: string): Effect.Effect<string | undefined> =>
    Effect.gen(function* () {
      const found = yield* findPool(cache, namespace, pool)
      const template = found === undefined ? undefined : yield* templateOf(cache, found)
      return template?.containerName
    })
