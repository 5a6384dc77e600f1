/**
 * envd's `resolveSandbox`: which Pod a data-plane request is for, and whether it may reach it.
 * The sandbox is named by its `49983-<id>.<domain>` host or the `E2b-Sandbox-Id` header; access
 * needs the sandbox's `X-Access-Token` (compared in constant time against the digest on the Pod)
 * or, for /files, a URL signed with that token. The token is what separates tenants here: the
 * data plane takes no API key.
 */

import type { ClusterUnavailable } from "@agent-sandbox/domain"
import { FileSignature, SandboxTarget } from "@agent-sandbox/envd"
import { Sandboxes } from "@agent-sandbox/operator"
import { Clock, Effect, Option } from "effect"
import type { ServerConfigShape } from "../ServerConfig.ts"
import * as AccessToken from "./AccessToken.ts"
import * as E2bAnnotations from "./E2bAnnotations.ts"
import * as E2bView from "./E2bView.ts"
import * as RequestRouting from "./RequestRouting.ts"

type EnvdRequest = SandboxTarget.EnvdRequest

const header = (request: EnvdRequest, name: string): string | undefined => {
  const value = request.headers[name]
  return Array.isArray(value) ? value[0] : value
}

const fail = (reason: SandboxTarget.SandboxResolveError["reason"], message: string) =>
  Effect.fail(new SandboxTarget.SandboxResolveError({ reason, message }))

/**
 * A target plus the sandbox's env vars (for envd to apply to every process it starts), and what
 * routing to a node agent needs: the sandbox, its node and its Pod's uid.
 */
export type ResolvedTarget = SandboxTarget.SandboxTarget & {
  readonly envs: Readonly<Record<string, string>>
  readonly sandboxId: string
  readonly node: string | undefined
  readonly podUid: string
  readonly container: string
}

export type ResolveTarget = (
  request: EnvdRequest,
) => Effect.Effect<ResolvedTarget, SandboxTarget.SandboxResolveError>

export const make = (options: {
  readonly sandboxes: Sandboxes.SandboxesShape
  /** The token key in force (AccessTokenKey.current): tokens are derived again with it. */
  readonly tokenKey: () => Uint8Array | undefined
  readonly config: ServerConfigShape
}): ResolveTarget => {
  const domain = options.config.e2b?.domain
  const { sandboxes } = options

  const unavailable = (error: ClusterUnavailable) => fail("Unavailable", error.message)
  const byId = (sandboxId: string) =>
    sandboxes.lookup(sandboxId).pipe(Effect.map(Option.getOrUndefined), Effect.catchAll(unavailable))

  /** A scan of the allocated sandboxes, for the rare request that names its sandbox by token alone. */
  const byToken = (token: string) =>
    Effect.map(sandboxes.list(Sandboxes.adminCaller), (all) => {
      const digest = AccessToken.digest(token)
      return all.find(({ sandbox }) => E2bAnnotations.read(sandbox).accessTokenSha256 === digest)
    })

  return (request) =>
    Effect.gen(function* () {
      const url = new URL(request.url ?? "/", "http://envd.invalid")
      const sandboxId = RequestRouting.sandboxIdOf(
        {
          path: url.pathname,
          host: header(request, "host") ?? header(request, ":authority"),
          sandboxIdHeader: header(request, "e2b-sandbox-id"),
        },
        domain,
      )
      const given = header(request, "x-access-token")
      const now = yield* Clock.currentTimeMillis
      const found =
        sandboxId !== undefined && sandboxId !== ""
          ? yield* byId(sandboxId)
          : given !== undefined && given !== ""
            ? // Older Python SDKs (2.20) drop E2b-Sandbox-Id after Sandbox.connect: the token names the sandbox.
              yield* byToken(given)
            : undefined
      if (found === undefined && (sandboxId === undefined || sandboxId === "")) {
        return yield* fail(
          "NotFound",
          "The sandbox was not found: the request names none (E2b-Sandbox-Id header)",
        )
      }
      if (found === undefined || !E2bView.isLive(found.sandbox, now)) {
        return yield* fail("NotFound", `The sandbox ${sandboxId ?? found?.sandbox.sandboxId} was not found`)
      }
      const { sandbox } = found
      const record = E2bAnnotations.read(sandbox)
      if (record.accessTokenSha256 === undefined) {
        return yield* fail(
          "Forbidden",
          `sandbox ${sandbox.sandboxId} was not created through the E2B API: it has no envd access`,
        )
      }
      if (url.pathname === "/files" && (given === undefined || given === "")) {
        const token = E2bView.accessTokenOf(sandbox, options.tokenKey())
        const access =
          token === undefined
            ? ({ _tag: "Denied", reason: "the sandbox's access token cannot be derived" } as const)
            : FileSignature.checkFileAccess({
                method: request.method ?? "GET",
                url,
                accessTokenHeader: undefined,
                accessToken: token,
                nowSeconds: Math.floor(now / 1000),
              })
        if (access._tag === "Denied") return yield* fail("Unauthenticated", access.reason)
      } else {
        // Derived again with the key in force, not compared with the digest kept on the Pod: a
        // rotated (or deleted) key revokes every earlier token on every replica.
        const key = options.tokenKey()
        const valid =
          given !== undefined &&
          key !== undefined &&
          record.accessTokenNonce !== undefined &&
          AccessToken.verify(key, record.accessTokenNonce, given)
        if (!valid) {
          return yield* fail("Unauthenticated", "a valid X-Access-Token is required for this sandbox")
        }
      }
      // Read the Pod fresh before anything runs in it (after the token check, so no unauthenticated
      // request costs an API-server read): a lagging watch may still show it to its last tenant.
      yield* sandboxes.confirm(found).pipe(
        Effect.catchTags({
          SandboxNotFound: () => fail("NotFound", `The sandbox ${sandbox.sandboxId} was not found`),
          ClusterUnavailable: unavailable,
        }),
      )
      const target: ResolvedTarget = {
        namespace: sandbox.namespace,
        pod: sandbox.name,
        container: sandbox.containerName,
        sandboxId: sandbox.sandboxId ?? sandboxId ?? "",
        node: sandbox.nodeName,
        podUid: sandbox.uid,
        // The runtime's env first: what the caller set at create wins.
        envs: { ...Sandboxes.runtimeEnvOf(sandbox), ...record.envVars },
      }
      return target
    })
}
