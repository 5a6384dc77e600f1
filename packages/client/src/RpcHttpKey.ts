import { Unauthorized } from "@agent-sandbox/domain/api"
import { HttpClient, HttpClientError, HttpClientRequest } from "@effect/platform"
import type { RpcClientError } from "@effect/rpc"
import { Effect, Layer, Option, Schema, Stream } from "effect"

/**
 * The server checks the key of a POST /rpc in its HTTP headers before it reads the body (see
 * docs/security.md), so over HTTP the key goes in `X-API-Key` as well as in every message. A key it
 * refuses comes back as a 401 whose body is the typed `Unauthorized`; its message travels on as the
 * HTTP error's description, and `typedRefusals` turns it back into that error.
 */
export const layerHttpClient = (apiKey: string) =>
  Layer.effect(
    HttpClient.HttpClient,
    Effect.map(HttpClient.HttpClient, (client) =>
      client.pipe(
        HttpClient.mapRequest(HttpClientRequest.setHeader("x-api-key", apiKey)),
        HttpClient.transformResponse(
          Effect.flatMap((response) =>
            response.status === 401
              ? Effect.flatMap(
                  Effect.option(Effect.flatMap(response.json, Schema.decodeUnknown(Unauthorized))),
                  (refusal) =>
                    Effect.fail(
                      new HttpClientError.ResponseError({
                        request: response.request,
                        response,
                        reason: "StatusCode",
                        description: Option.match(refusal, {
                          onNone: () => "the server refused the API key (HTTP 401)",
                          onSome: (unauthorized) => unauthorized.message,
                        }),
                      }),
                    ),
                )
              : Effect.succeed(response),
          ),
        ),
      ),
    ),
  )

/** The server's `Unauthorized` that arrived as an HTTP 401, else the error as it was. */
const unwrap = <E>(error: E): E | Unauthorized => {
  const tagged = error as unknown as RpcClientError.RpcClientError
  if (tagged?._tag !== "RpcClientError") return error
  const cause = tagged.cause
  return cause instanceof HttpClientError.ResponseError && cause.response.status === 401
    ? new Unauthorized({ message: cause.description ?? cause.message })
    : error
}

/**
 * Every call of an RPC client, failing with `Unauthorized` where the HTTP transport failed with the
 * server's 401 (the RPC client reports any send failure as its own `RpcClientError`). `Unauthorized`
 * is already in every call's error type (the `RpcAuthentication` middleware's failure).
 */
export const typedRefusals = <C extends object>(client: C): C =>
  Object.fromEntries(
    Object.entries(client).map(([name, call]) => [
      name,
      typeof call === "function"
        ? (...args: ReadonlyArray<unknown>) => {
            const result = call(...args)
            if (Effect.isEffect(result)) return Effect.mapError(result, unwrap)
            if (Stream.StreamTypeId in result) return Stream.mapError(result, unwrap)
            return result
          }
        : call,
    ]),
  ) as C
