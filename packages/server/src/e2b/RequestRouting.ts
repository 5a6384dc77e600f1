/**
 * Which plane a request on the E2B port is for. The SDKs reach envd either at one URL for every
 * sandbox (`E2B_SANDBOX_URL`, the sandbox named by the `E2b-Sandbox-Id` header) or at
 * `https://49983-<id>.<domain>`. The header alone does not decide: older SDKs also send it to the
 * control plane (connect), so envd's own paths do.
 */
import { SandboxIdFormat } from "@agent-sandbox/domain"

export const envdPort = 49983

const hostLabel = new RegExp(`^${envdPort}-(${SandboxIdFormat.idSource})$`)

const rpcPath = /^\/[A-Za-z_][\w.]*\.[A-Za-z_]\w*\/[A-Za-z_]\w*$/

/** The sandbox id of a `49983-<id>.<domain>` host (any port); undefined for any other host. */
export const sandboxIdFromHost = (
  host: string | undefined,
  domain: string | undefined,
): string | undefined => {
  if (host === undefined || domain === undefined || domain === "") return undefined
  const name = host.toLowerCase().replace(/:\d+$/, "").replace(/\.$/, "")
  const suffix = `.${domain.toLowerCase()}`
  if (!name.endsWith(suffix)) return undefined
  const label = name.slice(0, -suffix.length)
  const match = hostLabel.exec(label)
  return match?.[1]
}

export interface RoutedRequest {
  readonly path: string
  readonly host: string | undefined
  readonly sandboxIdHeader: string | undefined
}

export const isDataPlane = (request: RoutedRequest, domain: string | undefined): boolean =>
  sandboxIdFromHost(request.host, domain) !== undefined ||
  rpcPath.test(request.path) ||
  request.path === "/files" ||
  (request.path === "/health" && request.sandboxIdHeader !== undefined)

/** The sandbox a data-plane request names: its host, else its `E2b-Sandbox-Id` header. */
export const sandboxIdOf = (request: RoutedRequest, domain: string | undefined): string | undefined =>
  sandboxIdFromHost(request.host, domain) ?? request.sandboxIdHeader
