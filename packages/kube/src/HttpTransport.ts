import type * as k8s from "@kubernetes/client-node"
import { Chunk, Effect, Either, Option, type Scope, Stream } from "effect"
import { type Dispatcher, Pool, ProxyAgent } from "undici"
import { materialSource, readMaterial } from "./ApiServerAccess.ts"
import * as InFlightRequests from "./InFlightRequests.ts"
import { fromStatus, fromUnknown, KubeError } from "./KubeError.ts"

/**
 * How requests reach the API server. Credentials and TLS material come from client-node's
 * kubeconfig handling (`applyToHTTPSOptions`: certificates, tokens, exec and OIDC plugins), read
 * once; the HTTP itself is undici, because client-node builds a fresh connection pool on every
 * call, which puts a TLS handshake on each request.
 *
 * Two pools that never share a socket:
 * - `requests`: bounded keep-alive pool for reads and writes, HTTP/1.1 by default. HTTP/2 (one
 *   multiplexed session per slot) is an option, not the default: under a burst of aborted requests
 *   (an orchestrator interrupted with 50 claims and execs in flight) undici's HTTP/2 client left a
 *   session with 31 requests that never got headers until the 70 s timeout, the Lease renewal among
 *   them, and destroying such sessions has aborted the process (std::bad_alloc in Http2Session). An
 *   aborted HTTP/1.1 request costs its socket, nothing else.
 * - `watches`: HTTP/1.1, one connection per open watch, unbounded, so a long-lived watch holds
 *   its own socket and can never make a write wait for a free connection, nor the reverse.
 *
 * Closing (the scope) first ends every request and watch still running and only then destroys
 * the pools; the effects that were running end as interrupted (see InFlightRequests).
 */

/**
 * Ends a dispatcher's connections with a GOAWAY once nothing is in flight, and only destroys what
 * is still open after a grace period: destroying an HTTP/2 session whose streams are still
 * winding down has aborted the whole process (std::bad_alloc in node's Http2Session).
 */
const closeGracefully = (dispatcher: Dispatcher): Promise<void> =>
  Promise.race([
    dispatcher.close().then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2_000).unref()),
  ])
    .then((closed) => (closed ? undefined : dispatcher.destroy()))
    .catch(() => {})

export interface TransportOptions {
  /** HTTP/2 for requests: one multiplexed connection per pool slot (default HTTP/1.1). */
  readonly http2: boolean
  /** Connections in the request pool. */
  readonly connections: number
  readonly userAgent: string
}

export const defaultTransportOptions: TransportOptions = {
  http2: false,
  // Requests in flight at once (one per connection); more wait in the pool's queue.
  connections: 32,
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
  /**
   * A streaming GET on its own connection, as one value per line (watch framing): each line
   * parsed as JSON and read by `decode` in the same step, so a watch event costs no Effect of its
   * own. The first line `decode` refuses ends the stream with its error, after the lines before it.
   */
  readonly stream: <A>(
    path: string,
    operation: () => string,
    decode: (line: unknown) => Either.Either<A, KubeError>,
  ) => Stream.Stream<A, KubeError>
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
    const initial = yield* Effect.tryPromise({
      try: () => readMaterial(config, options.userAgent),
      catch: fromUnknown("load kubeconfig credentials"),
    })
    const { tls } = initial
    const material = materialSource(config, options.userAgent, initial)
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

    const requests = makeDispatcher({
      ...common,
      allowH2: options.http2,
      connections: options.connections,
      pipelining: 1,
      // The API server gives up on a request after 60 s (--request-timeout); so do we.
      headersTimeout: 70_000,
      bodyTimeout: 70_000,
    })
    const watches = makeDispatcher({
      ...common,
      allowH2: false,
      connections: null,
      pipelining: 1,
      // A watch is quiet between events; the server ends it at timeoutSeconds and sends
      // bookmarks meanwhile, so only a dead connection stays silent this long.
      bodyTimeout: 5 * 60_000,
    })
    const inFlight = InFlightRequests.make()
    yield* Effect.addFinalizer(() =>
      Effect.promise(() => inFlight.close()).pipe(
        // An aborted request settles at once; a stuck one must not keep the pools open.
        Effect.interruptible,
        Effect.timeout("5 seconds"),
        Effect.ignore,
        Effect.zipRight(
          Effect.promise(() =>
            Promise.all([requests, watches].map((dispatcher) => closeGracefully(dispatcher))),
          ),
        ),
      ),
    )

    // Once closing has begun, a failure is the closing's doing: the effect ends as interrupted.
    const unlessClosing = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
      Effect.catchAllCause(effect, (cause) =>
        inFlight.closing() ? Effect.interrupt : Effect.failCause(cause),
      )

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
        // undici closes the connection after a request that carries a body its method does not
        // expect (a DELETE with DeleteOptions: every precondition-checked delete), so each such
        // delete cost the next request a new TLS connection. The API server reads those bodies:
        // keep the connection.
        reset: false,
        signal,
      })

    const exchange = async (request: HttpRequest, signal: AbortSignal): Promise<Exchanged> => {
      let response = await send(
        requests,
        request,
        (await material.current(false)).credentials.headers,
        signal,
      )
      if (response.statusCode === 401 && material.refreshable) {
        await response.body.dump()
        response = await send(requests, request, (await material.current(true)).credentials.headers, signal)
      }
      if (response.statusCode >= 200 && response.statusCode < 300) {
        return { ok: true, status: response.statusCode, body: await response.body.json() }
      }
      return { ok: false, status: response.statusCode, body: await response.body.text() }
    }

    // One Effect.async around the exchange (a claim's one write goes through here): the request's
    // own signal is the one InFlightRequests holds, interrupting the effect aborts it, and a failure
    // once closing has begun ends the effect as interrupted (as `unlessClosing` does).
    const request = (httpRequest: HttpRequest, operation: () => string): Effect.Effect<unknown, KubeError> =>
      Effect.async<unknown, KubeError>((resume) => {
        const started = inFlight.start((signal) => exchange(httpRequest, signal))
        started.promise.then(
          (exchanged) =>
            resume(
              exchanged.ok
                ? Effect.succeed(exchanged.body)
                : Effect.fail(fromStatus(operation(), exchanged.status, exchanged.body)),
            ),
          (cause) =>
            resume(inFlight.closing() ? Effect.interrupt : Effect.fail(fromUnknown(operation())(cause))),
        )
        return Effect.sync(() => started.abort())
      })

    const stream = <A>(
      path: string,
      operation: () => string,
      decode: (line: unknown) => Either.Either<A, KubeError>,
    ): Stream.Stream<A, KubeError> =>
      Stream.unwrapScoped(
        Effect.gen(function* () {
          // Held for the stream's life, body included: ending the stream or closing aborts it.
          const held = yield* Effect.acquireRelease(
            Effect.sync(() => inFlight.open()),
            (held) =>
              Effect.sync(() => {
                held.abort()
                held.release()
              }),
          )
          const headers = yield* Effect.tryPromise({
            try: () => material.current(false),
            catch: (cause) => fromUnknown(operation())(cause),
          })
          const response = yield* Effect.tryPromise({
            try: () => {
              const sent = send(watches, { method: "GET", path }, headers.credentials.headers, held.signal)
              held.settles(sent)
              return sent
            },
            catch: (cause) => fromUnknown(operation())(cause),
          }).pipe(unlessClosing)
          if (response.statusCode < 200 || response.statusCode >= 300) {
            const text = yield* Effect.tryPromise({
              try: () => response.body.text(),
              catch: (cause) => fromUnknown(operation())(cause),
            }).pipe(unlessClosing)
            return yield* Effect.fail(fromStatus(operation(), response.statusCode, text))
          }
          return jsonLines(response.body, operation, unlessClosing, decode)
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
export const jsonLines = <A>(
  body: AsyncIterable<Uint8Array>,
  operation: () => string,
  unlessClosing: <A, E>(effect: Effect.Effect<A, E>) => Effect.Effect<A, E>,
  decode: (line: unknown) => Either.Either<A, KubeError>,
): Stream.Stream<A, KubeError> =>
  Stream.suspend(() => {
    const chunks = body[Symbol.asyncIterator]()
    const decoder = new TextDecoder()
    let pending = ""
    let ended = false
    // A line `decode` refused: the values before it go out first, then the stream fails with it.
    let refused: KubeError | undefined
    const take = (line: string, values: Array<A>): boolean => {
      const decoded = decode(JSON.parse(line))
      if (Either.isLeft(decoded)) {
        refused = decoded.left
        return false
      }
      values.push(decoded.right)
      return true
    }
    const parse = (final: boolean): Chunk.Chunk<A> => {
      const values: Array<A> = []
      let newline = pending.indexOf("\n")
      while (newline >= 0) {
        const line = pending.slice(0, newline)
        pending = pending.slice(newline + 1)
        if (line.trim().length > 0 && !take(line, values)) return Chunk.unsafeFromArray(values)
        newline = pending.indexOf("\n")
      }
      if (final && pending.trim().length > 0) take(pending, values)
      return Chunk.unsafeFromArray(values)
    }
    const pull: Effect.Effect<Chunk.Chunk<A>, Option.Option<KubeError>> = Effect.suspend(() => {
      if (refused !== undefined) return Effect.fail(Option.some(refused))
      if (ended) return Effect.fail(Option.none())
      return Effect.tryPromise({
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
      }).pipe(
        unlessClosing,
        Effect.flatMap((values) =>
          Chunk.isEmpty(values) && refused !== undefined
            ? Effect.fail(Option.some(refused))
            : Effect.succeed(values),
        ),
      )
    })
    return Stream.repeatEffectChunkOption(pull)
  })
