import { InvalidRequest, PayloadTooLarge, SandboxApi } from "@agent-sandbox/domain"
import { HttpApiBuilder, HttpMiddleware, type HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, flow, Layer, Schema } from "effect"
import { ApiKeys } from "../auth/ApiKeys.ts"
import * as AuthenticationLive from "../auth/AuthenticationLive.ts"
import { closingServer } from "../ClosingServer.ts"
import * as BodyLimit from "../http/BodyLimit.ts"
import * as JsonBody from "../http/JsonBody.ts"
import * as RetryAfter from "../RetryAfter.ts"
import * as RpcServer from "../rpc/RpcServer.ts"
import { limitsOf, ServerConfig } from "../ServerConfig.ts"
import { keysLayer } from "./KeysHandlers.ts"
import { poolAdminLayer } from "./PoolAdminHandlers.ts"
import { poolsLayer, sandboxesLayer } from "./SandboxesHandlers.ts"

const encodeTooLarge = Schema.encodeSync(PayloadTooLarge)
const encodeInvalid = Schema.encodeSync(InvalidRequest)

/** The REST error for a body that is not JSON. */
const badRequest = (message: string) =>
  HttpServerResponse.unsafeJson(encodeInvalid(new InvalidRequest({ message })), { status: 400 })

/** The REST error for a body over the limit, as HttpApi would encode it. */
const tooLarge = (limitBytes: number) =>
  HttpServerResponse.unsafeJson(
    encodeTooLarge(new PayloadTooLarge({ limitBytes, message: BodyLimit.message(limitBytes) })),
    { status: 413, headers: { connection: "close" } },
  )

/**
 * Whether the request carries a key in force, as the API's `Authentication` decides it: the
 * `X-API-Key` header or a bearer token, either one (the API's own check answers the rest with 401).
 */
const authenticated = (request: HttpServerRequest.HttpServerRequest) =>
  Effect.flatMap(ApiKeys, (keys) => {
    const authorization = request.headers.authorization
    const candidates = [
      request.headers["x-api-key"],
      authorization?.toLowerCase().startsWith("bearer ") === true ? authorization.slice(7).trim() : undefined,
    ].filter((key): key is string => key !== undefined && key !== "")
    return Effect.exists(candidates, (key) =>
      keys.authenticate(key).pipe(
        Effect.as(true),
        Effect.orElseSucceed(() => false),
      ),
    )
  })

export const apiLayer = HttpApiBuilder.api(SandboxApi).pipe(
  Layer.provide([sandboxesLayer, poolsLayer, poolAdminLayer, keysLayer]),
  Layer.provide(AuthenticationLive.layer),
)

/** The REST API on :8080 (and its OpenAPI document at /openapi.json), with Effect RPC under /rpc. */
export const layer = Layer.unwrapEffect(
  Effect.map(ServerConfig, (config) =>
    HttpApiBuilder.serve(
      flow(
        // Innermost first: the JSON check reads the body within BodyLimit's bound.
        JsonBody.parseFirst(badRequest, authenticated),
        BodyLimit.middleware(limitsOf(config).maxBodyBytes, tooLarge),
        RetryAfter.middleware(config.retryAfterSeconds),
      ),
    ).pipe(
      Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/openapi.json" })),
      Layer.provide(RpcServer.layer),
      Layer.provide(apiLayer),
      // No tracer is installed, so per-request spans would only cost CPU on the allocation path.
      HttpMiddleware.withTracerDisabledWhen(() => true),
      Layer.provide(
        NodeHttpServer.layer(closingServer(config.maxWaitMillis + 1000), {
          port: config.apiPort,
          host: config.host,
          // RL workers connect in bursts of thousands; the default backlog (511) would drop some.
          backlog: 4096,
        }),
      ),
    ),
  ),
)
