/**
 * The E2B control plane's operations on sandboxes, over the allocator and the cache: E2B's
 * semantics (defaults, capped timeouts, connect only extends, the envd access token, env vars)
 * on top of the operator's one-write allocation.
 */
import { createHash } from "node:crypto"
import { envdVersion } from "@agent-sandbox/envd"
import { Allocator, SandboxCache, SandboxPod } from "@agent-sandbox/operator"
import { Clock, Context, Effect, Layer, Option, Schedule } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"
import { ServerConfig } from "../ServerConfig.ts"
import * as AccessToken from "./AccessToken.ts"
import { AccessTokenKey } from "./AccessTokenKey.ts"
import * as E2bAnnotations from "./E2bAnnotations.ts"
import * as E2bError from "./E2bError.ts"
import * as E2bModels from "./E2bModels.ts"
import * as E2bView from "./E2bView.ts"
import * as PoolLookup from "./PoolLookup.ts"
import * as TemplateRef from "./TemplateRef.ts"
import * as TimeoutPolicy from "./TimeoutPolicy.ts"

export type ApiVersion = "v1" | "v2"

export interface E2bSandboxesShape {
  readonly create: (
    caller: Allocator.Caller,
    body: E2bModels.NewSandbox,
    options: { readonly version: ApiVersion; readonly idempotencyKey: string | undefined },
  ) => Effect.Effect<E2bModels.E2bSandbox, E2bError.E2bError>
  /** A running sandbox, its timeout extended (never shortened) to `timeoutSeconds` from now. */
  readonly connect: (
    caller: Allocator.Caller,
    sandboxId: string,
    timeoutSeconds: number,
  ) => Effect.Effect<E2bModels.E2bSandbox, E2bError.E2bError>
  readonly get: (
    caller: Allocator.Caller,
    sandboxId: string,
  ) => Effect.Effect<E2bModels.E2bSandbox, E2bError.E2bError>
  readonly list: (caller: Allocator.Caller) => Effect.Effect<ReadonlyArray<E2bModels.E2bSandbox>>
  /** Ends the sandbox `timeoutSeconds` from now (shorter or longer), within the pool's maximum. */
  readonly setTimeout: (
    caller: Allocator.Caller,
    sandboxId: string,
    timeoutSeconds: number,
  ) => Effect.Effect<void, E2bError.E2bError>
  readonly kill: (caller: Allocator.Caller, sandboxId: string) => Effect.Effect<void, E2bError.E2bError>
}

export class E2bSandboxes extends Context.Tag("@agent-sandbox/server/e2b/E2bSandboxes")<
  E2bSandboxes,
  E2bSandboxesShape
>() {}

/** Env vars ride on a Pod annotation; keep them well inside the API server's 256 KiB for all annotations. */
const maxEnvVarsBytes = 64 * 1024

const idempotencyDigest = (tenant: string, key: string): string =>
  createHash("sha256").update(`${tenant}\u0000${key}`).digest("hex")

export const make = Effect.gen(function* () {
  const allocator = yield* Allocator.Allocator
  const cache = yield* SandboxCache.SandboxCache
  const { key: tokenKey } = yield* AccessTokenKey
  const config = yield* ServerConfig
  const context: E2bView.ViewContext = {
    defaultNamespace: config.defaultNamespace,
    domain: config.e2b?.domain,
    envdVersion,
    tokenKey,
  }

  const findPool = (namespace: string, pool: string) => PoolLookup.findPool(cache, namespace, pool)
  const containerNameOf = PoolLookup.containerNameOf(cache)

  const view = (sandbox: SandboxPod.SandboxPod, pod: Pod | undefined) =>
    Effect.map(containerNameOf(sandbox.namespace, sandbox.pool), (containerName) =>
      E2bView.toE2b(context, sandbox, pod, containerName),
    )

  /** The caller's live sandbox and its Pod; ended, expired and other tenants' sandboxes are not found. */
  const lookup = (caller: Allocator.Caller, sandboxId: string) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const pod = Option.getOrUndefined(yield* cache.podOfSandbox(sandboxId))
      const sandbox = pod === undefined ? undefined : SandboxPod.read(pod)
      if (
        pod === undefined ||
        sandbox === undefined ||
        sandbox.sandboxId !== sandboxId ||
        !Allocator.visibleTo(caller, sandbox) ||
        !E2bView.isLive(sandbox, now)
      ) {
        return yield* Effect.fail(E2bError.notFound(`sandbox ${sandboxId} not found`))
      }
      return { pod, sandbox }
    })

  const maxTimeoutOf = (sandbox: SandboxPod.SandboxPod) =>
    Effect.flatMap(findPool(sandbox.namespace, sandbox.pool), (pool) =>
      pool === undefined
        ? Effect.fail(E2bError.notFound(`sandbox ${sandbox.sandboxId} not found (its pool is gone)`))
        : Effect.succeed(pool.spec.sandbox.maxTimeoutSeconds),
    )

  const extend = (caller: Allocator.Caller, sandboxId: string, seconds: number) =>
    allocator.extend(caller, sandboxId, seconds).pipe(Effect.mapError(E2bError.fromDomain))

  const liveSandboxes = (caller: Allocator.Caller) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const pods = yield* cache.allocatedPods
      return pods.flatMap((pod) => {
        const sandbox = SandboxPod.read(pod)
        return sandbox !== undefined && Allocator.visibleTo(caller, sandbox) && E2bView.isLive(sandbox, now)
          ? [{ pod, sandbox }]
          : []
      })
    })

  /**
   * Waits (briefly) for the cache to see a kill, so that once DELETE has answered this replica's
   * data plane no longer serves the sandbox, as with E2B.
   */
  const untilGone = (sandboxId: string) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const pod = Option.getOrUndefined(yield* cache.podOfSandbox(sandboxId))
      const sandbox = pod === undefined ? undefined : SandboxPod.read(pod)
      return sandbox === undefined || sandbox.sandboxId !== sandboxId || !E2bView.isLive(sandbox, now)
    }).pipe(
      Effect.repeat({ until: (gone) => gone, schedule: Schedule.spaced("20 millis") }),
      Effect.timeout("5 seconds"),
      Effect.ignore,
    )

  const create: E2bSandboxesShape["create"] = (caller, body, options) =>
    Effect.gen(function* () {
      const unsupported = E2bModels.unsupportedOptions(body)
      if (unsupported.length > 0) return yield* Effect.fail(E2bError.unsupported(unsupported.join(", ")))
      const envVars = body.envVars ?? {}
      const badName = E2bModels.invalidEnvVarName(envVars)
      if (badName !== undefined) {
        return yield* Effect.fail(E2bError.badRequest(`envVars: '${badName}' is not a valid variable name`))
      }
      if (Buffer.byteLength(JSON.stringify(envVars)) > maxEnvVarsBytes) {
        return yield* Effect.fail(E2bError.badRequest(`envVars exceed ${maxEnvVarsBytes} bytes`))
      }
      const ref = TemplateRef.parse(body.templateID, config.defaultNamespace)
      if (ref._tag === "Invalid") return yield* Effect.fail(E2bError.badRequest(ref.message))
      const pool = yield* findPool(ref.namespace, ref.pool)
      if (pool === undefined) {
        return yield* Effect.fail(
          E2bError.notFound(
            `template '${body.templateID}' not found (no SandboxPool ${ref.namespace}/${ref.pool})`,
          ),
        )
      }
      const idempotencyKeySha256 =
        options.idempotencyKey === undefined
          ? undefined
          : idempotencyDigest(caller.tenant, options.idempotencyKey)
      if (idempotencyKeySha256 !== undefined) {
        // A retried create returns the sandbox the first attempt made.
        const earlier = (yield* liveSandboxes(caller)).find(
          ({ sandbox }) => E2bAnnotations.read(sandbox).idempotencyKeySha256 === idempotencyKeySha256,
        )
        if (earlier !== undefined) return yield* view(earlier.sandbox, earlier.pod)
      }
      const requested =
        body.timeout ??
        (options.version === "v1"
          ? TimeoutPolicy.defaultSeconds.createV1
          : TimeoutPolicy.defaultSeconds.createV2)
      const nonce = AccessToken.newNonce()
      const claimed = yield* allocator
        .allocate({
          namespace: ref.namespace,
          pool: ref.pool,
          runtime: ref.runtime,
          tenant: caller.tenant,
          timeoutSeconds: TimeoutPolicy.capped(requested, pool.spec.sandbox.maxTimeoutSeconds),
          metadata: body.metadata ?? {},
          annotations: E2bAnnotations.claimAnnotations({
            accessTokenSha256: AccessToken.digest(AccessToken.derive(tokenKey, nonce)),
            accessTokenNonce: nonce,
            envVars,
            idempotencyKeySha256,
          }),
        })
        .pipe(Effect.mapError(E2bError.fromDomain))
      const pod = Option.getOrUndefined(yield* cache.podOfSandbox(claimed.sandboxId ?? ""))
      return yield* view(claimed, pod)
    })

  const connect: E2bSandboxesShape["connect"] = (caller, sandboxId, timeoutSeconds) =>
    Effect.gen(function* () {
      const { pod, sandbox } = yield* lookup(caller, sandboxId)
      const extension = TimeoutPolicy.extension({
        requestedSeconds: timeoutSeconds,
        maxSeconds: yield* maxTimeoutOf(sandbox),
        nowMs: yield* Clock.currentTimeMillis,
        expiresAtMs: sandbox.expiresAt,
      })
      const current = extension === undefined ? sandbox : yield* extend(caller, sandboxId, extension)
      return yield* view(current, pod)
    })

  return {
    create,
    connect,
    get: (caller, sandboxId) =>
      Effect.flatMap(lookup(caller, sandboxId), ({ pod, sandbox }) => view(sandbox, pod)),
    list: (caller) =>
      Effect.flatMap(liveSandboxes(caller), (live) =>
        Effect.forEach(live, ({ pod, sandbox }) => view(sandbox, pod)),
      ),
    setTimeout: (caller, sandboxId, timeoutSeconds) =>
      Effect.gen(function* () {
        const { sandbox } = yield* lookup(caller, sandboxId)
        const max = yield* maxTimeoutOf(sandbox)
        yield* extend(caller, sandboxId, TimeoutPolicy.capped(timeoutSeconds, max))
      }),
    kill: (caller, sandboxId) =>
      Effect.gen(function* () {
        yield* lookup(caller, sandboxId)
        yield* allocator.release(caller, sandboxId).pipe(Effect.mapError(E2bError.fromDomain))
        yield* untilGone(sandboxId)
      }),
  } satisfies E2bSandboxesShape
})

export const layer = Layer.effect(E2bSandboxes, make)
