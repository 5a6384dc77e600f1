import { RpcAuthentication, SandboxRpcs } from "@agent-sandbox/domain/api"
import { FetchHttpClient, Socket } from "@effect/platform"
import { RpcClient, type RpcClientError, type RpcGroup, RpcMiddleware, RpcSerialization } from "@effect/rpc"
import { Context, Effect, Layer, type Scope } from "effect"
import * as ClientConfig from "./ClientConfig.ts"
import * as RpcHttpKey from "./RpcHttpKey.ts"

export type SandboxRpcClientShape = RpcClient.RpcClient<
  RpcGroup.Rpcs<typeof SandboxRpcs>,
  RpcClientError.RpcClientError
>

/**
 * Effect RPC to the server's /rpc: `allocate`, `allocateBatch`, `release`, `extend`, `get`, `list`,
 * and the streams `watch` (sandbox lifecycle) and `exec` (stdout/stderr chunks, then the exit).
 * Interrupting a call interrupts it on the server too.
 */
export class SandboxRpcClient extends Context.Tag("@agent-sandbox/client/SandboxRpcClient")<
  SandboxRpcClient,
  SandboxRpcClientShape
>() {}

/** Sends the API key with every call (in the message headers, so it works over either transport). */
const authentication = (config: ClientConfig.ClientConfig) =>
  RpcMiddleware.layerClient(RpcAuthentication, ({ request }) =>
    Effect.succeed({
      ...request,
      headers: { ...request.headers, "x-api-key": ClientConfig.apiKeyOf(config) },
    }),
  )

const client = (config: ClientConfig.ClientConfig) =>
  Layer.scoped(SandboxRpcClient, Effect.map(RpcClient.make(SandboxRpcs), RpcHttpKey.typedRefusals)).pipe(
    Layer.provide(authentication(config)),
  )

/** One HTTP request per call (the key also in its headers), answers streamed back as NDJSON. */
export const layerHttp = (config: ClientConfig.ClientConfig): Layer.Layer<SandboxRpcClient> =>
  client(config).pipe(
    Layer.provide(RpcClient.layerProtocolHttp({ url: `${ClientConfig.trimmedBaseUrl(config)}/rpc` })),
    Layer.provide(RpcSerialization.layerNdjson),
    Layer.provide(RpcHttpKey.layerHttpClient(ClientConfig.apiKeyOf(config))),
    Layer.provide(FetchHttpClient.layer),
  )

/** One WebSocket for every call (reconnects on transient errors); the platform's global WebSocket. */
export const layerWebSocket = (config: ClientConfig.ClientConfig): Layer.Layer<SandboxRpcClient> =>
  client(config).pipe(
    Layer.provide(RpcClient.layerProtocolSocket({ retryTransientErrors: true })),
    Layer.provide(Socket.layerWebSocket(`${ClientConfig.trimmedBaseUrl(config).replace(/^http/, "ws")}/rpc`)),
    Layer.provide([RpcSerialization.layerNdjson, Socket.layerWebSocketConstructorGlobal]),
  )

/** A sandbox allocated over RPC for the life of the scope; released on exit, failure or interruption. */
export const scoped = (request: Parameters<SandboxRpcClientShape["allocate"]>[0]) =>
  Effect.flatMap(SandboxRpcClient, (rpc) =>
    Effect.acquireRelease(rpc.allocate(request), (sandbox) =>
      rpc.release({ id: sandbox.id }).pipe(
        Effect.catchTag("SandboxNotFound", () => Effect.void),
        Effect.catchAll((error) => Effect.logWarning(`agent-sandbox: releasing ${sandbox.id} failed`, error)),
      ),
    ),
  ) satisfies Effect.Effect<unknown, unknown, Scope.Scope | SandboxRpcClient>
