import { Duration, Effect } from "effect"
import { Pool } from "undici"
import { type LoadOptions, type LoadResult, runLoad } from "../support/LoadLoop.ts"

/**
 * Allocation as a client sees it: POST /v1/sandboxes over `concurrency` keep-alive HTTP/1.1
 * connections (an undici Pool, one request in flight per connection), each timed from the request
 * to the last byte of the 201 body.
 */
export interface AllocationTarget {
  readonly apiUrl: string
  readonly key: string
  readonly pool: string
}

const keepAlivePool = (apiUrl: string, connections: number) =>
  Effect.acquireRelease(
    Effect.sync(
      () =>
        new Pool(apiUrl, {
          connections,
          pipelining: 1,
          keepAliveTimeout: 60_000,
          keepAliveMaxTimeout: 120_000,
          headersTimeout: 60_000,
          bodyTimeout: 60_000,
        }),
    ),
    (pool) => Effect.promise(() => pool.close()),
  )

const send = (
  pool: Pool,
  request: {
    readonly method: "GET" | "POST" | "DELETE"
    readonly path: string
    readonly key: string
    readonly body?: unknown
  },
) =>
  Effect.tryPromise({
    try: async () => {
      const response = await pool.request({
        method: request.method,
        path: request.path,
        headers: {
          "x-api-key": request.key,
          ...(request.body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      })
      return { status: response.statusCode, text: await response.body.text() }
    },
    catch: (cause) => `transport: ${(cause as Error).message ?? String(cause)}`,
  })

/** Opens every connection first (an authenticated GET), so no measured request pays a TCP handshake. */
const openConnections = (pool: Pool, target: AllocationTarget, connections: number) =>
  Effect.all(
    Array.from({ length: connections }, () =>
      Effect.ignore(send(pool, { method: "GET", path: "/v1/pools", key: target.key })),
    ),
    { concurrency: "unbounded", discard: true },
  )

/** The error's tag when the body is a tagged error (TooManyWaiting, CapacityUnavailable, ...), else its start. */
const errorTag = (text: string): string => {
  try {
    const tag = (JSON.parse(text) as { _tag?: unknown })._tag
    if (typeof tag === "string") return tag
  } catch {}
  return text.slice(0, 60)
}

export interface AllocationRun {
  readonly result: LoadResult
  readonly sandboxIds: ReadonlyArray<string>
}

export const allocate = (target: AllocationTarget, options: LoadOptions): Effect.Effect<AllocationRun> =>
  Effect.scoped(
    Effect.gen(function* () {
      const pool = yield* keepAlivePool(target.apiUrl, options.concurrency)
      yield* openConnections(pool, target, options.concurrency)
      const sandboxIds: Array<string> = []
      const result = yield* runLoad(options, (i) =>
        Effect.flatMap(
          send(pool, {
            method: "POST",
            path: "/v1/sandboxes",
            key: target.key,
            body: { pool: target.pool, timeoutSeconds: 600, metadata: { bench: `alloc-${i}` } },
          }),
          ({ status, text }) => {
            if (status !== 201) return Effect.fail(`HTTP ${status} ${errorTag(text)}`)
            sandboxIds.push((JSON.parse(text) as { id: string }).id)
            return Effect.void
          },
        ),
      )
      return { result, sandboxIds }
    }),
  )

/**
 * The operator's own share of a request: GET /v1/pools (authenticated, answered from its cache,
 * no Kubernetes call) over the same kind of connections.
 */
export const floor = (target: AllocationTarget, options: LoadOptions): Effect.Effect<LoadResult> =>
  Effect.scoped(
    Effect.gen(function* () {
      const pool = yield* keepAlivePool(target.apiUrl, options.concurrency)
      yield* openConnections(pool, target, options.concurrency)
      return yield* runLoad(options, () =>
        Effect.flatMap(
          send(pool, { method: "GET", path: "/v1/pools", key: target.key }),
          ({ status, text }) =>
            status === 200 ? Effect.void : Effect.fail(`HTTP ${status} ${text.slice(0, 80)}`),
        ),
      )
    }),
  )

/** Releases sandboxes (DELETE /v1/sandboxes/:id), timed the same way. */
export const release = (
  target: AllocationTarget,
  sandboxIds: ReadonlyArray<string>,
  concurrency: number,
): Effect.Effect<LoadResult> =>
  Effect.scoped(
    Effect.gen(function* () {
      const pool = yield* keepAlivePool(target.apiUrl, concurrency)
      yield* openConnections(pool, target, concurrency)
      return yield* runLoad({ count: sandboxIds.length, concurrency, timeLimit: Duration.minutes(2) }, (i) =>
        Effect.flatMap(
          send(pool, { method: "DELETE", path: `/v1/sandboxes/${sandboxIds[i]}`, key: target.key }),
          ({ status, text }) =>
            status === 204 ? Effect.void : Effect.fail(`HTTP ${status} ${text.slice(0, 80)}`),
        ),
      )
    }),
  )
