/**
 * The E2B control plane's operations on sandboxes, over the operator's Sandboxes service: E2B's
 * semantics (defaults, capped timeouts, connect only extends, the envd access token, env vars)
 * on top of the operator's one-write allocation.
 */
import { createHash } from "node:crypto"
import type { TenantShape } from "@agent-sandbox/domain"
import { envdVersion } from "@agent-sandbox/envd"
import { type Caller, Sandboxes } from "@agent-sandbox/operator"
import { Clock, Context, Effect, Layer, Option } from "effect"
import { ServerConfig } from "../ServerConfig.ts"
import { TenantGate } from "../tenancy/TenantGate.ts"
import * as AccessToken from "./AccessToken.ts"
import { AccessTokenKey } from "./AccessTokenKey.ts"
import * as E2bAnnotations from "./E2bAnnotations.ts"
import * as E2bError from "./E2bError.ts"
import * as E2bModels from "./E2bModels.ts"
import * as E2bView from "./E2bView.ts"
import * as TemplateRef from "./TemplateRef.ts"
import * as TimeoutPolicy from "./TimeoutPolicy.ts"

export type ApiVersion = "v1" | "v2"

export interface E2bSandboxesShape {
  /** As the tenant: within its pools and quotas (TenantGate). */
  readonly create: (
    tenant: TenantShape,
    body: E2bModels.NewSandbox,
    options: { readonly version: ApiVersion; readonly idempotencyKey: string | undefined },
  ) => Effect.Effect<E2bModels.E2bSandbox, E2bError.E2bError>
  /** A running sandbox, its timeout extended (never shortened) to `timeoutSeconds` from now. */
  readonly connect: (
    caller: Caller,
    sandboxId: string,
    timeoutSeconds: number,
  ) => Effect.Effect<E2bModels.E2bSandbox, E2bError.E2bError>
  readonly get: (caller: Caller, sandboxId: string) => Effect.Effect<E2bModels.E2bSandbox, E2bError.E2bError>
  readonly list: (caller: Caller) => Effect.Effect<ReadonlyArray<E2bModels.E2bSandbox>>
  /** Ends the sandbox `timeoutSeconds` from now (shorter or longer), within the pool's maximum. */
  readonly setTimeout: (
    caller: Caller,
    sandboxId: string,
    timeoutSeconds: number,
  ) => Effect.Effect<void, E2bError.E2bError>
  readonly kill: (caller: Caller, sandboxId: string) => Effect.Effect<void, E2bError.E2bError>
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
  const sandboxes = yield* Sandboxes.Sandboxes
  const { current: tokenKeys } = yield* AccessTokenKey
  const config = yield* ServerConfig
  const gate = yield* TenantGate
  const context: E2bView.ViewContext = {
    defaultNamespace: config.defaultNamespace,
    domain: config.e2b?.domain,
    envdVersion,
    tokenKeys,
  }
  const view = (sandbox: Sandboxes.AllocatedSandbox) => E2bView.toE2b(context, sandbox)

  /** The caller's live sandbox; ended, expired and other tenants' sandboxes are not found. */
  const lookup = (caller: Caller, sandboxId: string) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const found = yield* Effect.option(sandboxes.get(caller, sandboxId))
      if (Option.isNone(found) || !E2bView.isLive(found.value.sandbox, now)) {
        return yield* Effect.fail(E2bError.notFound(`sandbox ${sandboxId} not found`))
      }
      return found.value
    })

  const maxTimeoutOf = (sandbox: Sandboxes.SandboxPod) =>
    Effect.flatMap(sandboxes.pool(sandbox.namespace, sandbox.pool), (pool) =>
      Option.isNone(pool)
        ? Effect.fail(E2bError.notFound(`sandbox ${sandbox.sandboxId} not found (its pool is gone)`))
        : Effect.succeed(pool.value.spec.sandbox.maxTimeoutSeconds),
    )

  const extend = (caller: Caller, sandboxId: string, seconds: number) =>
    sandboxes.extend(caller, sandboxId, seconds).pipe(Effect.mapError(E2bError.fromDomain))

  const liveSandboxes = (caller: Caller) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const all = yield* sandboxes.list(caller)
      return all.filter(({ sandbox }) => E2bView.isLive(sandbox, now))
    })

  const create: E2bSandboxesShape["create"] = (tenant, body, options) =>
    Effect.gen(function* () {
      const caller: Caller = { tenant: tenant.name, admin: tenant.admin }
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
      // A pool the key may not use reads exactly as one that does not exist.
      const templateNotFound = E2bError.notFound(
        `template '${body.templateID}' not found (no SandboxPool ${ref.namespace}/${ref.pool})`,
      )
      return yield* gate
        .admit(
          tenant,
          ref,
          1,
        )(claim(caller, body, options, ref, envVars, templateNotFound))
        .pipe(
          Effect.catchTags({
            PoolNotFound: () => Effect.fail(templateNotFound),
            QuotaExceeded: (error) => Effect.fail(E2bError.fromDomain(error)),
          }),
        )
    })

  const claim = (
    caller: Caller,
    body: E2bModels.NewSandbox,
    options: { readonly version: ApiVersion; readonly idempotencyKey: string | undefined },
    ref: { readonly namespace: string; readonly pool: string; readonly runtime?: string | undefined },
    envVars: Readonly<Record<string, string>>,
    templateNotFound: E2bError.E2bError,
  ) =>
    Effect.gen(function* () {
      const pool = yield* sandboxes.pool(ref.namespace, ref.pool)
      if (Option.isNone(pool)) return yield* Effect.fail(templateNotFound)
      const idempotencyKeySha256 =
        options.idempotencyKey === undefined
          ? undefined
          : idempotencyDigest(caller.tenant, options.idempotencyKey)
      if (idempotencyKeySha256 !== undefined) {
        // A retried create returns the sandbox the first attempt made.
        const earlier = (yield* liveSandboxes(caller)).find(
          ({ sandbox }) => E2bAnnotations.read(sandbox).idempotencyKeySha256 === idempotencyKeySha256,
        )
        if (earlier !== undefined) return view(earlier)
      }
      const requested =
        body.timeout ??
        (options.version === "v1"
          ? TimeoutPolicy.defaultSeconds.createV1
          : TimeoutPolicy.defaultSeconds.createV2)
      const nonce = AccessToken.newNonce()
      const keys = tokenKeys()
      if (keys === undefined) {
        return yield* Effect.fail(E2bError.unavailable("the envd token key is being replaced; retry"))
      }
      const claimed = yield* sandboxes
        .allocate({
          namespace: ref.namespace,
          pool: ref.pool,
          runtime: ref.runtime,
          tenant: caller.tenant,
          timeoutSeconds: TimeoutPolicy.capped(requested, pool.value.spec.sandbox.maxTimeoutSeconds),
          metadata: body.metadata ?? {},
          annotations: E2bAnnotations.claimAnnotations({
            accessTokenSha256: AccessToken.digest(AccessToken.derive(keys.signing.key, nonce)),
            accessTokenNonce: nonce,
            envVars,
            idempotencyKeySha256,
          }),
        })
        .pipe(Effect.mapError(E2bError.fromDomain))
      return view(claimed)
    })

  const connect: E2bSandboxesShape["connect"] = (caller, sandboxId, timeoutSeconds) =>
    Effect.gen(function* () {
      const found = yield* lookup(caller, sandboxId)
      const extension = TimeoutPolicy.extension({
        requestedSeconds: timeoutSeconds,
        maxSeconds: yield* maxTimeoutOf(found.sandbox),
        nowMs: yield* Clock.currentTimeMillis,
        expiresAtMs: found.sandbox.expiresAt,
      })
      return view(extension === undefined ? found : yield* extend(caller, sandboxId, extension))
    })

  return {
    create,
    connect,
    get: (caller, sandboxId) => Effect.map(lookup(caller, sandboxId), view),
    list: (caller) => Effect.map(liveSandboxes(caller), (live) => live.map(view)),
    setTimeout: (caller, sandboxId, timeoutSeconds) =>
      Effect.gen(function* () {
        const { sandbox } = yield* lookup(caller, sandboxId)
        const max = yield* maxTimeoutOf(sandbox)
        yield* extend(caller, sandboxId, TimeoutPolicy.capped(timeoutSeconds, max))
      }),
    // Once this answers, this replica no longer finds the sandbox (Sandboxes reads its own release),
    // so its data plane stops serving it at once, as with E2B.
    kill: (caller, sandboxId) =>
      Effect.zipRight(
        lookup(caller, sandboxId),
        sandboxes.release(caller, sandboxId).pipe(Effect.mapError(E2bError.fromDomain)),
      ),
  } satisfies E2bSandboxesShape
})

export const layer = Layer.effect(E2bSandboxes, make)
