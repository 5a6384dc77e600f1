/**
 * The E2B control plane (E2B's REST API as the published SDKs call it), as an HttpApp. Same API
 * keys and tenancy as the REST API: `X-API-KEY` (or a bearer token); a tenant sees and touches
 * only its own sandboxes. What E2B offers and this server does not answers 501.
 */
import type { Caller } from "@agent-sandbox/operator"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Cause, Effect, ParseResult, Schema } from "effect"
import { ApiKeys } from "../auth/ApiKeys.ts"
import * as E2bError from "./E2bError.ts"
import * as E2bModels from "./E2bModels.ts"
import { type ApiVersion, E2bSandboxes } from "./E2bSandboxes.ts"
import * as ListParams from "./ListParams.ts"
import * as SandboxListing from "./SandboxListing.ts"
import * as TimeoutPolicy from "./TimeoutPolicy.ts"

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  HttpServerResponse.unsafeJson(body, { status, headers })

const noContent = HttpServerResponse.empty({ status: 204 })

const errorResponse = (error: E2bError.E2bError) =>
  json(
    error.status,
    E2bError.body(error),
    error.retryAfterSeconds === undefined ? {} : { "retry-after": String(error.retryAfterSeconds) },
  )

/** The request body decoded by `schema`; an empty body reads as `{}` (some SDK calls send none). */
const bodyOf = <A, I>(schema: Schema.Schema<A, I>) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const text = yield* Effect.mapError(request.text, () =>
      E2bError.badRequest("the request body could not be read"),
    )
    const value = yield* Effect.try({
      try: (): unknown => (text.trim() === "" ? {} : JSON.parse(text)),
      catch: () => E2bError.badRequest("the request body is not JSON"),
    })
    return yield* Schema.decodeUnknown(schema)(value).pipe(
      Effect.mapError((e) =>
        E2bError.badRequest(`invalid request body: ${ParseResult.TreeFormatter.formatErrorSync(e)}`),
      ),
    )
  })

const sandboxIdParam = Effect.map(HttpRouter.params, (params) => params.sandboxID ?? "")

const searchParams = Effect.map(
  HttpServerRequest.HttpServerRequest,
  (request) => new URL(request.url, "http://e2b.invalid").searchParams,
)

const bearer = (authorization: string | undefined): string | undefined =>
  authorization?.toLowerCase().startsWith("bearer ") ? authorization.slice(7).trim() : undefined

export const make = Effect.gen(function* () {
  const sandboxes = yield* E2bSandboxes
  const keys = yield* ApiKeys

  const caller = Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const key = request.headers["x-api-key"] ?? bearer(request.headers.authorization)
    if (key === undefined || key === "") {
      return yield* Effect.fail(
        new E2bError.E2bError({ status: 401, message: "an API key is required (X-API-KEY header)" }),
      )
    }
    const tenant = yield* Effect.mapError(keys.authenticate(key), E2bError.fromDomain)
    return { tenant: tenant.name, admin: tenant.admin } satisfies Caller
  })

  /** An authenticated route: the caller first, then the handler. */
  const authed = <E, R>(
    handler: (caller: Caller) => Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>,
  ) => Effect.flatMap(caller, handler)

  const create = (version: ApiVersion) =>
    authed((c) =>
      Effect.gen(function* () {
        const body = yield* bodyOf(E2bModels.NewSandbox)
        const request = yield* HttpServerRequest.HttpServerRequest
        const sandbox = yield* sandboxes.create(c, body, {
          version,
          idempotencyKey: request.headers["idempotency-key"],
        })
        return json(201, E2bModels.sandbox(sandbox))
      }),
    )

  const connect = (version: ApiVersion) =>
    authed((c) =>
      Effect.gen(function* () {
        const body = yield* bodyOf(E2bModels.ConnectSandbox)
        const timeout =
          body.timeout ??
          (version === "v1" ? TimeoutPolicy.defaultSeconds.createV1 : TimeoutPolicy.defaultSeconds.connect)
        const sandbox = yield* sandboxes.connect(c, yield* sandboxIdParam, timeout)
        return json(200, E2bModels.sandbox(sandbox))
      }),
    )

  const list = (paged: boolean) =>
    authed((c) =>
      Effect.gen(function* () {
        const parsed = ListParams.parse(yield* searchParams, paged)
        if (parsed._tag === "Invalid") return yield* Effect.fail(E2bError.badRequest(parsed.message))
        const all = yield* sandboxes.list(c)
        const page = SandboxListing.page(
          all.map((s) => ({ ...s, pool: s.alias })),
          parsed.query,
        )
        return json(200, page.items.map(E2bModels.listedSandbox), {
          ...(page.nextToken === undefined ? {} : { "x-next-token": page.nextToken }),
          "x-total-running": String(page.total),
        })
      }),
    )

  const unsupported = (feature: string) => authed(() => Effect.fail(E2bError.unsupported(feature)))

  const router = HttpRouter.empty.pipe(
    HttpRouter.post("/sandboxes", create("v1")),
    HttpRouter.post("/v2/sandboxes", create("v2")),
    HttpRouter.get("/sandboxes", list(false)),
    HttpRouter.get("/v2/sandboxes", list(true)),
    HttpRouter.get("/sandboxes/metrics", unsupported("sandbox metrics")),
    HttpRouter.get(
      "/sandboxes/:sandboxID",
      authed((c) =>
        Effect.flatMap(sandboxIdParam, (id) =>
          Effect.map(sandboxes.get(c, id), (s) => json(200, E2bModels.sandboxDetail(s))),
        ),
      ),
    ),
    HttpRouter.del(
      "/sandboxes/:sandboxID",
      authed((c) => Effect.flatMap(sandboxIdParam, (id) => Effect.as(sandboxes.kill(c, id), noContent))),
    ),
    HttpRouter.post(
      "/sandboxes/:sandboxID/timeout",
      authed((c) =>
        Effect.gen(function* () {
          const body = yield* bodyOf(E2bModels.SandboxTimeoutRequest)
          yield* sandboxes.setTimeout(c, yield* sandboxIdParam, body.timeout)
          return noContent
        }),
      ),
    ),
    HttpRouter.post(
      "/sandboxes/:sandboxID/refreshes",
      authed((c) =>
        Effect.gen(function* () {
          const body = yield* bodyOf(E2bModels.SandboxRefreshRequest)
          // Keep-alive: extends like connect, never shortens.
          yield* sandboxes.connect(
            c,
            yield* sandboxIdParam,
            body.duration ?? TimeoutPolicy.defaultSeconds.createV1,
          )
          return noContent
        }),
      ),
    ),
    HttpRouter.post("/sandboxes/:sandboxID/connect", connect("v1")),
    HttpRouter.post("/v2/sandboxes/:sandboxID/connect", connect("v2")),
  )

  // E2B features this server does not have.
  const unsupportedRoutes = HttpRouter.empty.pipe(
    HttpRouter.post("/sandboxes/:sandboxID/pause", unsupported("pausing sandboxes")),
    HttpRouter.post("/sandboxes/:sandboxID/resume", unsupported("resuming sandboxes")),
    HttpRouter.post("/sandboxes/:sandboxID/snapshots", unsupported("snapshots")),
    HttpRouter.post("/sandboxes/:sandboxID/fork", unsupported("forking sandboxes")),
    HttpRouter.put("/sandboxes/:sandboxID/network", unsupported("network configuration")),
    HttpRouter.get("/sandboxes/:sandboxID/metrics", unsupported("sandbox metrics")),
    HttpRouter.get("/sandboxes/:sandboxID/logs", unsupported("sandbox logs")),
    HttpRouter.get("/v2/sandboxes/:sandboxID/logs", unsupported("sandbox logs")),
    HttpRouter.all("/snapshots*", unsupported("snapshots")),
    HttpRouter.all("/templates*", unsupported("templates (pools are SandboxPool resources)")),
    HttpRouter.all("/v2/templates*", unsupported("templates (pools are SandboxPool resources)")),
    HttpRouter.all("/v3/templates*", unsupported("templates (pools are SandboxPool resources)")),
    HttpRouter.all("/volumes*", unsupported("volumes")),
    HttpRouter.all("/secrets*", unsupported("secrets")),
    HttpRouter.all("/teams*", unsupported("teams")),
  )

  return HttpRouter.concat(router, unsupportedRoutes).pipe(
    HttpRouter.get("/health", Effect.succeed(json(200, { status: "ok" }))),
    Effect.catchTags({
      E2bError: (e) => Effect.succeed(errorResponse(e)),
      RouteNotFound: (e) =>
        Effect.succeed(
          errorResponse(
            E2bError.notFound(
              `${e.request.method} ${new URL(e.request.url, "http://e2b.invalid").pathname} not found`,
            ),
          ),
        ),
    }),
    Effect.catchAllCause((cause) =>
      Effect.as(
        Effect.logError("E2B API: internal error", cause),
        errorResponse(
          new E2bError.E2bError({
            status: Cause.isInterruptedOnly(cause) ? 503 : 500,
            message: "internal error",
          }),
        ),
      ),
    ),
  )
})
