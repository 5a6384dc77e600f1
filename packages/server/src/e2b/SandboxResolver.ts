/**
 * envd's `resolveSandbox`: which Pod a data-plane request is for, and whether it may reach it.
 * The sandbox is named by its `49983-<id>.<domain>` host or the `E2b-Sandbox-Id` header; access
 * needs the sandbox's `X-Access-Token` (its MAC recomputed under the key it names and compared in
 * constant time) or, for /files, a URL signed with that token. A token names its sandbox too, for
 * SDKs that send no sandbox id. The token is what separates tenants here: the
 * data plane takes no API key.
 */

import type { ClusterUnavailable } from "@agent-sandbox/domain"
import { FileSignature, SandboxTarget } from "@agent-sandbox/envd"
import { Sandboxes } from "@agent-sandbox/operator"
import { Clock, Effect, Option } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"
import type { ServerConfigShape } from "../ServerConfig.ts"
import * as AccessToken from "./AccessToken.ts"
import * as E2bAnnotations from "./E2bAnnotations.ts"
import * as E2bView from "./E2bView.ts"
import * as RequestRouting from "./RequestRouting.ts"
import type * as TokenKeyRing from "./TokenKeyRing.ts"

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

/**
 * A request whose sandbox and access were checked against this replica's cache, and the fresh
 * read that confirms the Pod is still that sandbox's before anything runs in it.
 */
export interface Authorized {
  readonly target: ResolvedTarget
  /** The sandbox container's runtime id as the cache shows it (undefined while it has none). */
  readonly cachedContainerId: string | undefined
  /** Reads the Pod from the API server: it is still this sandbox's; its container's id now. */
  readonly confirm: Effect.Effect<
    { readonly containerId: string | undefined },
    SandboxTarget.SandboxResolveError
  >
}

/** The runtime's id of `name`'s container in the Pod's status, without the `containerd://` prefix. */
export const containerIdOf = (pod: Pod, name: string): string | undefined => {
  const id = pod.status?.containerStatuses?.find((status) => status.name === name)?.containerID
  if (id === undefined || id === "") return undefined
  const scheme = id.indexOf("://")
  return scheme < 0 ? id : id.slice(scheme + 3)
}

/** Checks and confirms each request (the exec path: every request reads its Pod fresh). */
export const make = (options: Parameters<typeof makeAuthorize>[0]): ResolveTarget => {
  const authorize = makeAuthorize(options)
  return (request) =>
    Effect.flatMap(authorize(request), (authorized) => Effect.as(authorized.confirm, authorized.target))
}

export const makeAuthorize = (options: {
  readonly sandboxes: Sandboxes.SandboxesShape
  /** The token keys in force (AccessTokenKey.current): tokens are derived again with them. */
  readonly tokenKeys: () => TokenKeyRing.TokenKeyRing | undefined
  readonly config: ServerConfigShape
}): ((request: EnvdRequest) => Effect.Effect<Authorized, SandboxTarget.SandboxResolveError>) => {
  const domain = options.config.e2b?.domain
  const { sandboxes } = options

  const unavailable = (error: ClusterUnavailable) => fail("Unavailable", error.message)
  const byId = (sandboxId: string) =>
    sandboxes.lookup(sandboxId).pipe(Effect.map(Option.getOrUndefined), Effect.catchAll(unavailable))

  /**
   * The sandbox a token names, for the request that names it by token alone. A token from before
   * key ids names none: those (only) are found by a scan for the digest kept on the Pod.
   */
  const byToken = (token: string) => {
    const parsed = AccessToken.parse(token)
    if (parsed !== undefined) return byId(parsed.sandboxId)
    if (!AccessToken.isLegacy(token)) return Effect.succeed(undefined)
    return Effect.map(sandboxes.list(Sandboxes.adminCaller), (all) => {
      const digest = AccessToken.digest(token)
      return all.find(({ sandbox }) => E2bAnnotations.read(sandbox).accessTokenSha256 === digest)
    })
  }

  /**
   * What a request needs of a sandbox's cached Pod, worked out once per Pod object: the cache
   * replaces the object on every change the watch shows, so an entry never outlives what it was
   * derived from (a WeakMap: it goes with its Pod). A token found valid under a key ring is
   * remembered with that ring only: a rotation (a new ring) checks every token again.
   */
  interface PodFacts {
    readonly record: E2bAnnotations.E2bRecord
    readonly target: ResolvedTarget
    readonly cachedContainerId: string | undefined
    readonly confirm: Authorized["confirm"]
    verifiedUnder: TokenKeyRing.TokenKeyRing | undefined
    readonly verifiedTokens: Set<string>
  }
  const factsByPod = new WeakMap<Pod, PodFacts>()
  const factsOf = (found: Sandboxes.AllocatedSandbox): PodFacts => {
    const known = factsByPod.get(found.pod)
    if (known !== undefined) return known
    const { sandbox } = found
    const record = E2bAnnotations.read(sandbox)
    const facts: PodFacts = {
      record,
      target: {
        namespace: sandbox.namespace,
        pod: sandbox.name,
        container: sandbox.containerName,
        sandboxId: sandbox.sandboxId ?? "",
        node: sandbox.nodeName,
        podUid: sandbox.uid,
        // The runtime's env first: what the caller set at create wins.
        envs: { ...Sandboxes.runtimeEnvOf(sandbox), ...record.envVars },
      },
      cachedContainerId: containerIdOf(found.pod, sandbox.containerName),
      // Read the Pod fresh before anything runs in it (after the token check, so no unauthenticated
      // request costs an API-server read): a lagging watch may still show it to its last tenant.
      confirm: sandboxes.confirm(found).pipe(
        Effect.map((fresh) => ({ containerId: containerIdOf(fresh.pod, sandbox.containerName) })),
        Effect.catchTags({
          SandboxNotFound: () => fail("NotFound", `The sandbox ${sandbox.sandboxId} was not found`),
          ClusterUnavailable: unavailable,
        }),
      ),
      verifiedUnder: undefined,
      verifiedTokens: new Set(),
    }
    factsByPod.set(found.pod, facts)
    return facts
  }

  /** A few tokens per Pod at most (one per key of a ring in rotation, usually one). */
  const maxVerifiedTokens = 4

  /**
   * Recomputed under the key the token names, not compared with the digest kept on the Pod: a key
   * removed from the Secret revokes its tokens on every replica.
   */
  const tokenValid = (facts: PodFacts, sandboxId: string, given: string | undefined): boolean => {
    const keys = options.tokenKeys()
    if (given === undefined || keys === undefined || facts.record.accessTokenNonce === undefined) return false
    if (facts.verifiedUnder === keys && facts.verifiedTokens.has(given)) return true
    const valid = AccessToken.verify(keys, sandboxId, facts.record.accessTokenNonce, given)
    if (valid) {
      if (facts.verifiedUnder !== keys) {
        facts.verifiedUnder = keys
        facts.verifiedTokens.clear()
      }
      if (facts.verifiedTokens.size < maxVerifiedTokens) facts.verifiedTokens.add(given)
    }
    return valid
  }

  const check = (
    request: EnvdRequest,
    url: URL,
    sandboxId: string | undefined,
    given: string | undefined,
    found: Sandboxes.AllocatedSandbox | undefined,
    now: number,
  ): Effect.Effect<Authorized, SandboxTarget.SandboxResolveError> => {
    if (found === undefined && (sandboxId === undefined || sandboxId === "")) {
      return fail("NotFound", "The sandbox was not found: the request names none (E2b-Sandbox-Id header)")
    }
    if (found === undefined || !E2bView.isLive(found.sandbox, now)) {
      return fail("NotFound", `The sandbox ${sandboxId ?? found?.sandbox.sandboxId} was not found`)
    }
    const { sandbox } = found
    const facts = factsOf(found)
    if (facts.record.accessTokenSha256 === undefined) {
      return fail(
        "Forbidden",
        `sandbox ${sandbox.sandboxId} was not created through the E2B API: it has no envd access`,
      )
    }
    if (url.pathname === "/files" && (given === undefined || given === "")) {
      // Signed with whichever token the SDK holds: one under any key in force.
      const tokens = E2bView.acceptedTokensOf(sandbox, options.tokenKeys())
      const checks = tokens.map((token) =>
        FileSignature.checkFileAccess({
          method: request.method ?? "GET",
          url,
          accessTokenHeader: undefined,
          accessToken: token,
          nowSeconds: Math.floor(now / 1000),
        }),
      )
      if (!checks.some((access) => access._tag === "Allowed")) {
        const denied = checks.find((access) => access._tag === "Denied")
        return fail(
          "Unauthenticated",
          denied?._tag === "Denied" ? denied.reason : "the sandbox's access token cannot be derived",
        )
      }
    } else if (sandbox.sandboxId === undefined || !tokenValid(facts, sandbox.sandboxId, given)) {
      return fail("Unauthenticated", "a valid X-Access-Token is required for this sandbox")
    }
    return Effect.succeed({
      target: facts.target,
      cachedContainerId: facts.cachedContainerId,
      confirm: facts.confirm,
    })
  }

  return (request) =>
    Effect.suspend(() => {
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
      const found =
        sandboxId !== undefined && sandboxId !== ""
          ? byId(sandboxId)
          : given !== undefined && given !== ""
            ? // Older Python SDKs (2.20) drop E2b-Sandbox-Id after Sandbox.connect: the token names the sandbox.
              byToken(given)
            : Effect.succeed(undefined)
      return Effect.flatMap(found, (found) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => check(request, url, sandboxId, given, found, now)),
      )
    })
}
