/**
 * The E2B control plane: the domain's `E2bApi` served by HttpApiBuilder over E2bSandboxes, with
 * the REST API's `Authentication` middleware (one API-key reader). What E2B offers and this
 * server does not answers 501; every failure is E2B's `{"code", "message"}` (E2bFailure.ts).
 */
import { CurrentTenant, E2bApi, E2bModels } from "@agent-sandbox/domain"
import { HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import { Effect, Layer, Schema } from "effect"
import * as AuthenticationLive from "../auth/AuthenticationLive.ts"
import * as Caller from "../auth/Caller.ts"
import * as E2bError from "./E2bError.ts"
import * as E2bFailure from "./E2bFailure.ts"
import * as E2bReplies from "./E2bModels.ts"
import { type ApiVersion, E2bSandboxes } from "./E2bSandboxes.ts"
import * as ListParams from "./ListParams.ts"
import * as SandboxListing from "./SandboxListing.ts"
import * as TimeoutPolicy from "./TimeoutPolicy.ts"

const api = E2bApi.E2bApi

/** A list reply carries its paging in headers, so the handler builds the response itself. */
const listResponse = HttpServerResponse.schemaJson(Schema.Array(E2bModels.ListedSandbox))

const sandboxesLayer = HttpApiBuilder.group(api, "sandboxes", (handlers) =>
  Effect.gen(function* () {
    const sandboxes = yield* E2bSandboxes

    const create =
      (version: ApiVersion) =>
      ({
        payload,
        headers,
      }: {
        readonly payload: E2bModels.NewSandbox
        readonly headers: typeof E2bModels.CreateHeaders.Type
      }) =>
        CurrentTenant.pipe(
          Effect.flatMap((tenant) =>
            sandboxes.create(tenant, payload, { version, idempotencyKey: headers["idempotency-key"] }),
          ),
          Effect.map(E2bReplies.sandbox),
        )

    const connect =
      (version: ApiVersion) =>
      ({
        path,
        payload,
      }: {
        readonly path: { readonly sandboxID: string }
        readonly payload: typeof E2bModels.ConnectSandbox.Type | null
      }) =>
        Caller.current.pipe(
          Effect.flatMap((caller) =>
            sandboxes.connect(
              caller,
              path.sandboxID,
              payload?.timeout ??
                (version === "v1"
                  ? TimeoutPolicy.defaultSeconds.createV1
                  : TimeoutPolicy.defaultSeconds.connect),
            ),
          ),
          Effect.map(E2bReplies.sandbox),
        )

    const list = (params: E2bModels.ListSandboxesV2Params, paged: boolean) =>
      Effect.gen(function* () {
        const parsed = ListParams.parse(params, paged)
        if (parsed._tag === "Invalid") return yield* Effect.fail(E2bError.badRequest(parsed.message))
        const all = yield* Effect.flatMap(Caller.current, sandboxes.list)
        const page = SandboxListing.page(
          all.map((s) => ({ ...s, pool: s.alias })),
          parsed.query,
        )
        return yield* listResponse(page.items.map(E2bReplies.listedSandbox), {
          headers: {
            ...(page.nextToken === undefined ? {} : { "x-next-token": page.nextToken }),
            "x-total-running": String(page.total),
          },
        }).pipe(Effect.orDie)
      })

    return handlers
      .handle("create", create("v2"))
      .handle("createV1", create("v1"))
      .handle("list", ({ urlParams }) => list(urlParams, true))
      .handle("listV1", ({ urlParams }) => list(urlParams, false))
      .handle("get", ({ path }) =>
        Caller.current.pipe(
          Effect.flatMap((caller) => sandboxes.get(caller, path.sandboxID)),
          Effect.map(E2bReplies.sandboxDetail),
        ),
      )
      .handle("kill", ({ path }) =>
        Effect.flatMap(Caller.current, (caller) => sandboxes.kill(caller, path.sandboxID)),
      )
      .handle("setTimeout", ({ path, payload }) =>
        Effect.flatMap(Caller.current, (caller) =>
          sandboxes.setTimeout(caller, path.sandboxID, payload.timeout),
        ),
      )
      .handle("refresh", ({ path, payload }) =>
        // Keep-alive: extends like connect, never shortens.
        Effect.flatMap(Caller.current, (caller) =>
          sandboxes.connect(
            caller,
            path.sandboxID,
            payload?.duration ?? TimeoutPolicy.defaultSeconds.createV1,
          ),
        ).pipe(Effect.asVoid),
      )
      .handle("connect", connect("v2"))
      .handle("connectV1", connect("v1"))
  }),
)

const refuse = (feature: string) => () => Effect.fail(E2bError.unsupported(feature))

const unsupportedLayer = HttpApiBuilder.group(api, "unsupported", (handlers) =>
  handlers
    .handle("pause", refuse("pausing sandboxes"))
    .handle("resume", refuse("resuming sandboxes"))
    .handle("snapshot", refuse("snapshots"))
    .handle("fork", refuse("forking sandboxes"))
    .handle("network", refuse("network configuration"))
    .handle("metrics", refuse("sandbox metrics"))
    .handle("allMetrics", refuse("sandbox metrics"))
    .handle("logs", refuse("sandbox logs"))
    .handle("logsV2", refuse("sandbox logs")),
)

const healthLayer = HttpApiBuilder.group(api, "health", (handlers) =>
  handlers.handle("health", () => Effect.succeed({ status: "ok" as const })),
)

/** Before HttpApi encodes a failure: its own errors, unknown paths and defects become E2B's. */
const e2bFailures = HttpApiBuilder.middleware(api, (app) =>
  Effect.catchAllCause(app, (cause) => {
    const mapped = E2bFailure.fromCause(cause)
    return Effect.zipRight(
      mapped.unexpected ? Effect.logError("E2B API: internal error", cause) : Effect.void,
      Effect.fail(mapped.error),
    )
  }),
)

/**
 * The E2B API's handlers, router and middleware. Build it with its own `Layer.build` (E2bServer):
 * HttpApiBuilder's router is one per build, and the REST API has its own.
 */
export const layer = HttpApiBuilder.api(api).pipe(
  Layer.provide([sandboxesLayer, unsupportedLayer, healthLayer, e2bFailures]),
  Layer.provide(AuthenticationLive.layer),
  Layer.provideMerge(HttpApiBuilder.Router.Live),
  Layer.provideMerge(HttpApiBuilder.Middleware.layer),
)

/** The control plane as an HttpApp, in the current scope. */
export const make = Effect.flatMap(Layer.build(layer), (context) =>
  Effect.provide(HttpApiBuilder.httpApp, context),
)
