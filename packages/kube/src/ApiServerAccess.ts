import type * as https from "node:https"
import type * as k8s from "@kubernetes/client-node"

/**
 * What a connection to the API server needs, as client-node's kubeconfig handling gives it
 * (`applyToHTTPSOptions`: certificates, tokens, exec and OIDC plugins): TLS material for the
 * socket and headers for each request. Shared by the HTTP transport and exec's WebSockets.
 */
export interface TlsMaterial {
  readonly ca?: https.RequestOptions["ca"]
  readonly cert?: https.RequestOptions["cert"]
  readonly key?: https.RequestOptions["key"]
  readonly rejectUnauthorized?: boolean
  readonly servername?: string
}

export interface Credentials {
  /** Lower-case names: user-agent, accept, and whatever authenticates us. */
  readonly headers: Record<string, string>
  /** Refresh at this time (ms since epoch); Infinity for static credentials. */
  readonly refreshAt: number
}

export interface Material {
  readonly tls: TlsMaterial
  readonly credentials: Credentials
}

// Plugin credentials (exec, OIDC, token files) rotate; client-node caches them itself, so asking
// it again once a minute is cheap and keeps tokens fresh without per-request work.
const credentialRefreshMillis = 60_000

/** Asks client-node for what it would put on a request: TLS material and auth headers. */
export const readMaterial = async (config: k8s.KubeConfig, userAgent: string): Promise<Material> => {
  const options: https.RequestOptions = {}
  await config.applyToHTTPSOptions(options)
  const headers: Record<string, string> = { "user-agent": userAgent, accept: "application/json" }
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = String(value)
  }
  if (typeof options.auth === "string")
    headers.authorization = `Basic ${Buffer.from(options.auth).toString("base64")}`
  const user = config.getCurrentUser()
  const dynamic = user?.exec !== undefined || user?.authProvider !== undefined
  return {
    tls: {
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
      ...(options.cert !== undefined ? { cert: options.cert } : {}),
      ...(options.key !== undefined ? { key: options.key } : {}),
      ...(options.rejectUnauthorized !== undefined ? { rejectUnauthorized: options.rejectUnauthorized } : {}),
      ...(options.servername !== undefined ? { servername: options.servername } : {}),
    },
    credentials: {
      headers,
      refreshAt: dynamic ? Date.now() + credentialRefreshMillis : Number.POSITIVE_INFINITY,
    },
  }
}

/** The material to use now, read again when plugin credentials are due (one read at a time). */
export interface MaterialSource {
  /** `force`: read again now (after a 401), if the credentials can change at all. */
  readonly current: (force: boolean) => Promise<Material>
  /** Whether the credentials come from a plugin and may change (a 401 is worth one retry). */
  readonly refreshable: boolean
}

export const materialSource = (
  config: k8s.KubeConfig,
  userAgent: string,
  initial: Material,
): MaterialSource => {
  let material = initial
  let refreshing: Promise<Material> | undefined
  const refreshable = initial.credentials.refreshAt !== Number.POSITIVE_INFINITY
  return {
    refreshable,
    current: async (force) => {
      if (!(force && refreshable) && Date.now() < material.credentials.refreshAt) return material
      refreshing ??= readMaterial(config, userAgent).finally(() => {
        refreshing = undefined
      })
      material = await refreshing
      return material
    },
  }
}

/** Whether two readings hold the same TLS material (plugins may rotate client certificates). */
export const sameTls = (a: TlsMaterial, b: TlsMaterial): boolean =>
  a.rejectUnauthorized === b.rejectUnauthorized &&
  a.servername === b.servername &&
  samePem(a.ca, b.ca) &&
  samePem(a.cert, b.cert) &&
  samePem(a.key, b.key)

type Pem = TlsMaterial["ca"] | TlsMaterial["key"]

// client-node gives PEM text or buffers of it.
const samePem = (a: Pem, b: Pem): boolean =>
  a === b || (a !== undefined && b !== undefined && String(a) === String(b))
