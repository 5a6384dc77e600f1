import type * as https from "node:https"
import type * as k8s from "@kubernetes/client-node"
import { Chunk, Effect, Option, type Scope, Stream } from "effect"
import { type Dispatcher, Pool, ProxyAgent } from "undici"
import { fromStatus, fromUnknown, KubeError } from "./KubeError.ts"

/**
 * How requests reach the API server. Credentials and TLS material come from client-node's
 * kubeconfig handling (`applyToHTTPSOptions`: certificates, tokens, exec and OIDC plugins), read
 * once; the HTTP itself is undici, because client-node builds a fresh connection pool on every
 * call, which puts a TLS handshake on each request.
 *
 * Two pools that never share a socket:
 * - `requests`: bounded keep-alive pool for reads and writes (HTTP/2 multiplexed by default).
 * - `watches`: HTTP/1.1, one connection per open watch, unbounded, so a long-lived watch holds
 *   its own socket and can never make a write wait for a free connection, nor the reverse.
 */
export interface TransportOptions {
  /** HTTP/2 for requests: one multiplexed connection per pool slot. */
  readonly http2: boolean
  /** Connections in the request pool. */
  readonly connections: number
  readonly userAgent: string
}

export const defaultTransportOptions: TransportOptions = {
  http2: true,
  connections: 4,
  userAgent: "agent-sandbox/kube",
}

export interface HttpRequest {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE"
  /** Path and query, without the server's base path. */
  readonly path: string
  readonly body?: string | undefined
  readonly contentType?: string | undefined
}

export interface Transport {
  /** One request; a 2xx answer's JSON body, anything else a KubeError. */
  readonly request: (request: HttpRequest, operation: () => string) => Effect.Effect<unknown, KubeError>
  /** A streaming GET on its own connection, as one parsed JSON value per line (watch framing). */
  readonly stream: (path: string, operation: () => string) => Stream.Stream<unknown, KubeError>
}

interface Credentials {
  readonly headers: Record<string, string>
  /** Refresh at this time (ms since epoch); Infinity for static credentials. */
  readonly refreshAt: number
}

// Plugin credentials (exec, OIDC, token files) rotate; client-node caches them itself, so asking
// it again once a minute is cheap and keeps tokens fresh without per-request work.
const credentialRefreshMillis = 60_000

interface Material {
  readonly tls: {
    readonly ca?: https.RequestOptions["ca"]
    readonly cert?: https.RequestOptions["cert"]
    readonly key?: https.RequestOptions["key"]
    readonly rejectUnauthorized?: boolean
    readonly servername?: string
  }
  readonly credentials: Credentials
}

/** Asks client-node for what it would put on a request: TLS files and auth headers. */
const readMaterial = async (config: k8s.KubeConfig, userAgent: string): Promise<Material> => {
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

/** Builds the pools; they are closed when the scope closes. */
export const make = (
  config: k8s.KubeConfig,
  options: TransportOptions = defaultTransportOptions,
): Effect.Effect<Transport, KubeError, Scope.Scope> =>
  Effect.gen(function* () {
    const cluster = config.getCurrentCluster()
    if (cluster === null) {
      return yield* new KubeError({
        reason: "Unknown",
        status: 0,
        message: "the kubeconfig has no current cluster",
        operation: "load kubeconfig",
      })
    }
    const server = new URL(cluster.server)
    const origin = server.origin
    const basePath = server.pathname.replace(/\/+$/, "")
    const { tls, credentials: initial } = yield* Effect.tryPromise({
      try: () => readMaterial(config, options.userAgent),
      catch: fromUnknown("load kubeconfig credentials"),
    })
    if (cluster.proxyUrl?.startsWith("socks") === true) {
      return yield* new KubeError({
        reason: "Unknown",
        status: 0,
        message: "SOCKS proxies are not supported",
        operation: "load kubeconfig",
      })
    }

    const common = {
      connect: { ...tls, keepAlive: true, keepAliveInitialDelay: 30_000 },
      // Go's HTTP server keeps idle connections 90 s and sends no Keep-Alive hint.
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 60_000,
    }
    const makeDispatcher = (poolOptions: Pool.Options): Dispatcher =>
      cluster.proxyUrl !== undefined
        ? new ProxyAgent({ uri: cluster.proxyUrl, requestTls: tls, ...poolOptions })
        : new Pool(origin, poolOptions)

    const requests = yield* Effect.acquireRelease(
      Effect.sync(() =>
        makeDispatcher({
          ...common,
          allowH2: options.http2,
          connections: options.connections,
          pipelining: 1,
          // The API server gives up on a request after 60 s (--request-timeout); so do we.
          headersTimeout: 70_000,
          bodyTimeout: 70_000,
        }),
      ),
      (pool) => Effect.promise(() => pool.close().catch(() => undefined)),
    )
    const watches = yield* Effect.acquireRelease(
      Effect.sync(() =>
        makeDispatcher({
          ...common,
          allowH2: false,
          connections: null,
          pipelining: 1,
          // A watch is quiet between events; the server ends it at timeoutSeconds and sends
          // bookmarks meanwhile, so only a dead connection stays silent this long.
          bodyTimeout: 5 * 60_000,
        }),
      ),
      (pool) => Effect.promise(() => pool.destroy().catch(() => undefined)),
    )

    let credentials = initial
    let refreshing: Promise<Credentials> | undefined
    const currentHeaders = async (force: boolean): Promise<Record<string, string>> => {
      if (!force && Date.now() < credentials.refreshAt) return credentials.headers
      refreshing ??= readMaterial(config, options.userAgent)
        .then((material) => material.credentials)
        .finally(() => {
          refreshing = undefined
        })
      credentials = await refreshing
      return credentials.headers
    }

    const send = async (
      dispatcher: Dispatcher,
      request: HttpRequest,
      headers: Record<string, string>,
      signal: AbortSignal,
    ) =>
      dispatcher.request({
        origin,
        path: basePath + request.path,
        method: request.method,
        headers:
          request.contentType === undefined ? headers : { ...headers, "content-type": request.contentType },
        body: request.body ?? null,
        signal,
      })

    const exchange = async (request: HttpRequest, signal: AbortSignal): Promise<Exchanged> => {
      let response = await send(requests, request, await currentHeaders(false), signal)
      if (response.statusCode === 401 && credentials.refreshAt !== Number.POSITIVE_INFINITY) {
        await response.body.dump()
        response = await send(requests, request, await currentHeaders(true), signal)
      }
      if (response.statusCode >= 200 && response.statusCode < 300) {
        return { ok: true, status: response.statusCode, body: await response.body.json() }
      }
      return { ok: false, status: response.statusCode, body: await response.body.text() }
    }

    const request = (httpRequest: HttpRequest, operation: () => string): Effect.Effect<unknown, KubeError> =>
      Effect.tryPromise({
        try: (signal) => exchange(httpRequest, signal),
        catch: (cause) => fromUnknown(operation())(cause),
      }).pipe(
        Effect.flatMap((exchanged) =>
          exchanged.ok
            ? Effect.succeed(exchanged.body)
            : Effect.fail(fromStatus(operation(), exchanged.status, exchanged.body)),
        ),
      )

    const stream = (path: string, operation: () => string): Stream.Stream<unknown, KubeError> =>
      Stream.unwrapScoped(
        Effect.gen(function* () {
          const abort = new AbortController()
          yield* Effect.addFinalizer(() => Effect.sync(() => abort.abort()))
          const headers = yield* Effect.tryPromise({
            try: () => currentHeaders(false),
            catch: (cause) => fromUnknown(operation())(cause),
          })
          const response = yield* Effect.tryPromise({
            try: () => send(watches, { method: "GET", path }, headers, abort.signal),
            catch: (cause) => fromUnknown(operation())(cause),
          })
          if (response.statusCode < 200 || response.statusCode >= 300) {
            const text = yield* Effect.tryPromise({
              try: () => response.body.text(),
              catch: (cause) => fromUnknown(operation())(cause),
            })
            return yield* Effect.fail(fromStatus(operation(), response.statusCode, text))
          }
          return jsonLines(response.body, operation)
        }),
      )

    return { request, stream }
  })

type Exchanged = { readonly ok: boolean; readonly status: number; readonly body: unknown }

/**
 * Newline-delimited JSON, as watch responses are framed. Pulls the body's iterator directly
 * rather than through `for await`: ending the stream aborts the request (the scope's finalizer),
 * which settles a pending read, whereas an async generator's `return()` would wait for a read
 * that an idle watch never completes.
 */
const jsonLines = (
  body: AsyncIterable<Uint8Array>,
  operation: () => string,
): Stream.Stream<unknown, KubeError> =>
  Stream.suspend(() => {
    const chunks = body[Symbol.asyncIterator]()
    const decoder = new TextDecoder()
    let pending = ""
    let ended = false
    const parse = (final: boolean): Chunk.Chunk<unknown> => {
      const values: Array<unknown> = []
      let newline = pending.indexOf("\n")
      while (newline >= 0) {
        const line = pending.slice(0, newline)
        if (line.trim().length > 0) values.push(JSON.parse(line))
        pending = pending.slice(newline + 1)
        newline = pending.indexOf("\n")
      }
      if (final && pending.trim().length > 0) values.push(JSON.parse(pending))
      return Chunk.unsafeFromArray(values)
    }
    const pull: Effect.Effect<Chunk.Chunk<unknown>, Option.Option<KubeError>> = Effect.suspend(() =>
      ended
        ? Effect.fail(Option.none())
        : Effect.tryPromise({
            try: async () => {
              const next = await chunks.next()
              if (next.done === true) {
                ended = true
                pending += decoder.decode()
                return parse(true)
              }
              pending += decoder.decode(next.value, { stream: true })
              return parse(false)
            },
            catch: (cause) => Option.some(fromUnknown(operation())(cause)),
          }),
    )
    return Stream.repeatEffectChunkOption(pull)
  })
