import type { IncomingMessage } from "node:http"
import type { Http2ServerRequest } from "node:http2"
import { type Effect, Schema } from "effect"

/** Where a sandbox's commands run: one container of one Pod. */
export interface SandboxTarget {
  readonly namespace: string
  readonly pod: string
  /** May be omitted for single-container Pods. */
  readonly container?: string
  /** The Pod's uid, when known: a backend that finds the container itself (the node agent) checks it. */
  readonly podUid?: string
  /**
   * The runtime's id of the container the server confirmed the sandbox in (no `containerd://`
   * prefix), when known: a backend that finds the container itself serves that one only, so a
   * container restarted since (a recycle for another tenant) is refused.
   */
  readonly containerId?: string
  /** The sandbox's own environment (E2B `envVars` at create): every process gets it; a request's envs win. */
  readonly envs?: Readonly<Record<string, string>>
}

/** Identity of a target for per-sandbox state (processes, watchers, home directory). */
export const targetKey = (target: SandboxTarget): string =>
  `${target.namespace}/${target.pod}/${target.container ?? ""}`

/** The incoming HTTP request (HTTP/1.1 or HTTP/2), as handed to the resolver. */
export type EnvdRequest = IncomingMessage | Http2ServerRequest

/**
 * Why a request could not be tied to a running sandbox. The SDKs treat `NotFound` (a 502 /
 * `unavailable` whose message contains "was not found") as "sandbox killed or timed out".
 */
export class SandboxResolveError extends Schema.TaggedError<SandboxResolveError>()("SandboxResolveError", {
  reason: Schema.Literal("NotFound", "Unauthenticated", "Forbidden", "Unavailable"),
  message: Schema.String,
}) {}

/**
 * Supplied by the server: reads the sandbox id (the `E2b-Sandbox-Id` header or the
 * `49983-<id>.<domain>` host), checks `X-Access-Token`, and names the Pod to run in.
 */
export type ResolveSandbox = (request: EnvdRequest) => Effect.Effect<SandboxTarget, SandboxResolveError>
