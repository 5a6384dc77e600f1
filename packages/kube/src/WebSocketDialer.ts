import * as https from "node:https"
import { createRequire } from "node:module"
import * as net from "node:net"
import * as tls from "node:tls"
import type * as k8s from "@kubernetes/client-node"
import { Effect } from "effect"
import {
  type Material,
  type MaterialSource,
  materialSource,
  readMaterial,
  sameTls,
} from "./ApiServerAccess.ts"
import { fromUnknown, KubeError } from "./KubeError.ts"

/** What a `ws` client socket offers us (the package ships no types of its own). */
export interface WebSocketClient {
  readonly protocol: string
  readonly readyState: number
  readonly isPaused: boolean
  pause(): void
  resume(): void
  send(data: Uint8Array, callback: (error?: Error) => void): void
  terminate(): void
  on(event: "close", listener: (code: number, reason: Buffer) => void): void
  on(event: "error", listener: (error: Error) => void): void
  on(event: "message", listener: (data: Buffer, isBinary: boolean) => void): void
  on(event: "open", listener: () => void): void
}

type WebSocketConstructor = new (
  address: string,
  protocols: ReadonlyArray<string>,
  options: Record<string, unknown>,
) => WebSocketClient

const WebSocket = createRequire(import.meta.url)("ws") as WebSocketConstructor

/**
 * Opens WebSockets (exec, attach) to one cluster. Everything that does not change between
 * connections is made once: the TLS secure context (CA, client certificate and key parsed once,
 * not per socket), an https.Agent whose TLS session cache lets later sockets resume the session
 * instead of a full handshake, and the auth headers (read again only when plugin credentials are
 * due, or after a 401). Upgraded sockets leave the agent, so it holds no connection to close.
 */
export interface WebSocketDialer {
  /**
   * Connects to `path` (with query) offering `protocols`. `onMessage` is attached before the
   * handshake so no frame can arrive unheard. Rejects with ws's error ("Unexpected server
   * response: 403", ...) when the upgrade is refused. Terminate the socket when done.
   */
  readonly open: (
    path: string,
    protocols: ReadonlyArray<string>,
    onMessage: (data: Buffer, isBinary: boolean) => void,
  ) => Promise<WebSocketClient>
}

interface Connection {
  readonly material: Material
  readonly options: Record<string, unknown>
}

/** Sessions to keep for resumption: one server, a few per user at most. */
const cachedSessions = 16

const connectionOf = (
  cluster: k8s.Cluster,
  material: Material,
  proxyAgent: unknown,
  previous: Connection | undefined,
): Connection => {
  const secure = cluster.server.startsWith("https:")
  if (previous !== undefined && sameTls(previous.material.tls, material.tls)) {
    return { material, options: { ...previous.options, headers: upgradeHeaders(material) } }
  }
  const { ca, cert, key, rejectUnauthorized, servername } = material.tls
  const host = new URL(cluster.server).hostname.replace(/^\[|\]$/g, "")
  const tlsOptions = secure
    ? {
        secureContext: tls.createSecureContext({
          ...(ca !== undefined ? { ca } : {}),
          ...(cert !== undefined ? { cert } : {}),
          ...(key !== undefined ? { key } : {}),
        }),
        // As ws would: no SNI for an IP address.
        servername: servername ?? (net.isIP(host) !== 0 ? "" : host),
        ...(rejectUnauthorized !== undefined ? { rejectUnauthorized } : {}),
      }
    : {}
  const agent =
    proxyAgent ??
    (secure ? new https.Agent({ keepAlive: true, maxCachedSessions: cachedSessions }) : undefined)
  return {
    material,
    options: {
      ...tlsOptions,
      ...(agent !== undefined ? { agent } : {}),
      headers: upgradeHeaders(material),
      // The API server negotiates no compression; not offering it saves the setup.
      perMessageDeflate: false,
    },
  }
}

// The upgrade carries identity only; ws sets the WebSocket headers itself.
const upgradeHeaders = (material: Material): Record<string, string> => {
  const { accept: _accept, ...headers } = material.credentials.headers
  return headers
}

const isUnauthorized = (error: unknown) =>
  error instanceof Error && /Unexpected server response: 401\b/.test(error.message)

const make = async (config: k8s.KubeConfig, cluster: k8s.Cluster): Promise<WebSocketDialer> => {
  const userAgent = "agent-sandbox/kube"
  const initial = await readMaterial(config, userAgent)
  const source: MaterialSource = materialSource(config, userAgent, initial)
  // Behind a proxy, client-node's agent knows the way (HTTP CONNECT or SOCKS); our secure
  // context still rides on each connection's options.
  let proxyAgent: unknown
  if (cluster.proxyUrl !== undefined) {
    const probe: https.RequestOptions = {}
    await config.applyToHTTPSOptions(probe)
    proxyAgent = probe.agent
  }
  let connection = connectionOf(cluster, initial, proxyAgent, undefined)
  const base = cluster.server.replace(/^http/, "ws").replace(/\/+$/, "")

  const current = async (force: boolean): Promise<Connection> => {
    const material = await source.current(force)
    if (material !== connection.material) connection = connectionOf(cluster, material, proxyAgent, connection)
    return connection
  }

  const connect = (
    options: Record<string, unknown>,
    path: string,
    protocols: ReadonlyArray<string>,
    onMessage: (data: Buffer, isBinary: boolean) => void,
  ) =>
    new Promise<WebSocketClient>((resolve, reject) => {
      const socket = new WebSocket(base + path, protocols, options)
      let opened = false
      socket.on("message", onMessage)
      // Always listened to: an 'error' without a listener would be thrown. After the open,
      // the caller's own listeners learn of errors through 'close'.
      socket.on("error", (error) => {
        if (!opened) reject(error)
      })
      socket.on("open", () => {
        opened = true
        resolve(socket)
      })
    })

  return {
    open: async (path, protocols, onMessage) => {
      const first = await current(false)
      try {
        return await connect(first.options, path, protocols, onMessage)
      } catch (error) {
        // Plugin credentials may have rotated under us: read them again, once.
        if (!(isUnauthorized(error) && source.refreshable)) throw error
        return connect((await current(true)).options, path, protocols, onMessage)
      }
    },
  }
}

// One dialer per KubeConfig object (and its current cluster and user), made on first use and
// kept as long as that KubeConfig is: for a client layer, its lifetime.
const dialers = new WeakMap<k8s.KubeConfig, Map<string, Promise<WebSocketDialer>>>()

/** The dialer for the KubeConfig's current cluster and user. */
export const forConfig = (config: k8s.KubeConfig): Effect.Effect<WebSocketDialer, KubeError> =>
  Effect.suspend(() => {
    const cluster = config.getCurrentCluster()
    if (cluster === null) {
      return Effect.fail(
        new KubeError({
          reason: "Unknown",
          status: 0,
          message: "the kubeconfig has no current cluster",
          operation: "load kubeconfig",
        }),
      )
    }
    const key = JSON.stringify([cluster.name, cluster.server, config.getCurrentUser()?.name ?? ""])
    const byContext = dialers.get(config) ?? new Map<string, Promise<WebSocketDialer>>()
    dialers.set(config, byContext)
    let dialer = byContext.get(key)
    if (dialer === undefined) {
      dialer = make(config, cluster)
      // A failed read (a plugin that is down) is not remembered: the next exec tries again.
      dialer.catch(() => byContext.delete(key))
      byContext.set(key, dialer)
    }
    const pending = dialer
    return Effect.tryPromise({ try: () => pending, catch: fromUnknown("load kubeconfig credentials") })
  })
