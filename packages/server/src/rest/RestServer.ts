import { InvalidRequest, PayloadTooLarge, SandboxApi } from "@agent-sandbox/domain"
import { HttpApiBuilder, HttpApp, HttpMiddleware, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, flow, Layer, Option, Schema } from "effect"
import * as AuthenticationLive from "../auth/AuthenticationLive.ts"
import * as KeyInForce from "../auth/KeyInForce.ts"
import { closingServer } from "../ClosingServer.ts"
import * as BodyLimit from "../http/BodyLimit.ts"
import * as JsonBody from "../http/JsonBody.ts"
import * as RetryAfter from "../RetryAfter.ts"
import * as RpcKeyFirst from "../rpc/RpcKeyFirst.ts"
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

export const apiLayer = HttpApiBuilder.api(SandboxApi).pipe(
  Layer.provide([sandboxesLayer, poolsLayer, poolAdminLayer, keysLayer]),
  Layer.provide(AuthenticationLive.layer),
)

/** The REST API on :8080 (and its OpenAPI document at /openapi.json), with Effect RPC under /rpc. */
export const layer = Layer.unwrapEffect(
  Effect.map(ServerConfig, (config) => {
    const bodyLimit = BodyLimit.forServer(limitsOf(config).maxBodyBytes, tooLarge)
    const retryAfter = RetryAfter.beforeAnswer(config.retryAfterSeconds)
    // What every answer goes through before it is written, set once for the server rather than
    // appended by every request: Retry-After, then the body limit's 413 or Connection: close.
    const beforeAnswer: HttpApp.PreResponseHandler = (request, response) =>
      Effect.flatMap(retryAfter(request, response), (answer) => bodyLimit.beforeAnswer(request, answer))
    return HttpApiBuilder.serve(
      flow(
        // Innermost first: the JSON check reads the body within BodyLimit's bound; an RPC call
        // without a key is refused before anything reads its body.
        JsonBody.parseFirst(badRequest, KeyInForce.authenticated),
        RpcKeyFirst.middleware,
        bodyLimit.middleware,
      ),
    ).pipe(
      Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/openapi.json" })),
      Layer.provide(RpcServer.layer),
      Layer.provide(apiLayer),
      Layer.provide(bodyLimit.maxBodySize),
      // No tracer is installed, so per-request spans would only cost CPU on the allocation path.
      HttpMiddleware.withTracerDisabledWhen(() => true),
      // Each request's fiber starts with the server's FiberRefs: no per-request write for these.
      Layer.locally(HttpApp.currentPreResponseHandlers, Option.some(beforeAnswer)),
      Layer.provide(
        NodeHttpServer.layer(closingServer(config.maxWaitMillis + 1000), {
          port: config.apiPort,
          host: config.host,
          // RL workers connect in bursts of thousands; the default backlog (511) would drop some.
          backlog: 4096,
        }),
      ),
    )
  }),
)
