import { Unauthorized } from "@agent-sandbox/domain"
import { HttpMiddleware, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect, Schema } from "effect"
import * as KeyInForce from "../auth/KeyInForce.ts"

const encodeUnauthorized = Schema.encodeSync(Unauthorized)

export const message = "a valid API key is required (x-api-key header) to POST /rpc"

/** Whether the request is an Effect RPC call over HTTP, whose body is NDJSON messages. */
export const isRpcPost = (method: string, url: string): boolean =>
  method === "POST" && (url === "/rpc" || url.startsWith("/rpc?"))

/**
 * POST /rpc decodes its NDJSON body before each message's own key check runs, so the key must be
 * in the HTTP headers too: without one in force the caller gets the REST API's typed
 * `401 Unauthorized` and nothing reads or parses the body; the connection is closed.
 * The WebSocket upgrade (GET /rpc) has no body; its messages are checked one by one as before.
 */
export const middleware = HttpMiddleware.make((app) =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
    isRpcPost(request.method, request.url)
      ? Effect.flatMap(KeyInForce.authenticated(request), (known) =>
          known
            ? app
            : Effect.succeed(
                HttpServerResponse.unsafeJson(encodeUnauthorized(new Unauthorized({ message })), {
                  status: 401,
                  // Nothing of the body is read, so the connection cannot carry another request.
                  headers: { connection: "close" },
                }),
              ),
        )
      : app,
  ),
)
