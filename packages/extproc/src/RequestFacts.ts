/**
 * What a request says about where it goes, read from its headers alone (pure): a create, a request
 * for one sandbox (by its `<port>-<id>.<domain>` host, the `E2b-Sandbox-Id` header, or a
 * `/sandboxes/<id>` path), or anything else. E2B's SDKs name the sandbox in one of those three ways.
 */
import { SandboxIdFormat, TrafficAccessToken } from "@agent-sandbox/domain"

/** envd's port: `49983-<id>.<domain>` is the sandbox's data plane. */
export const envdPort = 49983

export type RequestTarget =
  | { readonly _tag: "Create" }
  | { readonly _tag: "Sandbox"; readonly sandboxId: string; readonly port: number }
  | { readonly _tag: "Unnamed" }

export interface RequestHeaders {
  readonly method: string
  readonly path: string
  readonly authority: string
  readonly sandboxIdHeader: string | undefined
  /** The cluster that forwarded this request here (the loop guard header), if any. */
  readonly via: string | undefined
  /** `e2b-traffic-access-token`: what opens a sandbox's private ports. */
  readonly trafficToken?: string | undefined
}

const id = SandboxIdFormat.idSource
const hostLabel = new RegExp(`^(\\d{1,5})-(${id})$`)
const sandboxPath = new RegExp(`^(?:/v2)?/sandboxes/(${id})(?:/|$|\\?)`)
const createPath = /^(?:\/v2)?\/sandboxes\/?(?:\?|$)/

/** `<port>-<id>` as the first label of a host under `domain` (any `:port` of the host ignored). */
export const fromHost = (
  authority: string,
  domain: string | undefined,
): { readonly sandboxId: string; readonly port: number } | undefined => {
  if (domain === undefined || domain === "") return undefined
  const name = authority.toLowerCase().replace(/:\d+$/, "").replace(/\.$/, "")
  const suffix = `.${domain.toLowerCase()}`
  if (!name.endsWith(suffix)) return undefined
  const match = hostLabel.exec(name.slice(0, -suffix.length))
  if (match === null) return undefined
  const port = Number(match[1])
  return port >= 1 && port <= 65535 ? { sandboxId: match[2] ?? "", port } : undefined
}

export const target = (request: RequestHeaders, domain: string | undefined): RequestTarget => {
  const host = fromHost(request.authority, domain)
  if (host !== undefined) return { _tag: "Sandbox", ...host }
  if (request.sandboxIdHeader !== undefined && SandboxIdFormat.isWellFormed(request.sandboxIdHeader)) {
    return { _tag: "Sandbox", sandboxId: request.sandboxIdHeader, port: envdPort }
  }
  const path = sandboxPath.exec(request.path)
  if (path !== null) return { _tag: "Sandbox", sandboxId: path[1] ?? "", port: envdPort }
  if (request.method === "POST" && createPath.test(request.path)) return { _tag: "Create" }
  return { _tag: "Unnamed" }
}

/** The headers `fromHeaderList` reads (besides the loop guard's): the others need not be decoded. */
export const readHeaders: ReadonlySet<string> = new Set([
  ":method",
  ":path",
  ":authority",
  "host",
  "e2b-sandbox-id",
  TrafficAccessToken.header,
])

/** Header names as Envoy sends them (lower case), first value wins. */
export const fromHeaderList = (
  headers: ReadonlyArray<{ readonly key: string; readonly value: string }>,
  viaHeader: string,
): RequestHeaders => {
  const get = (name: string) => headers.find((h) => h.key === name)?.value
  return {
    method: get(":method") ?? "GET",
    path: get(":path") ?? "/",
    authority: get(":authority") ?? get("host") ?? "",
    sandboxIdHeader: get("e2b-sandbox-id")?.toLowerCase(),
    via: get(viaHeader),
    trafficToken: get(TrafficAccessToken.header),
  }
}
