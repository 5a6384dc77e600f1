import { SandboxRpcs } from "@agent-sandbox/domain"
import { SandboxShell } from "@agent-sandbox/envd"
import { HttpApiBuilder } from "@effect/platform"
import { RpcSerialization, RpcServer } from "@effect/rpc"
import { Layer } from "effect"
import * as RpcAuthenticationLive from "./RpcAuthenticationLive.ts"
import * as RpcHandlers from "./RpcHandlers.ts"

/**
 * Effect RPC under /rpc on the REST server's own router: POST /rpc answers one call per request
 * with NDJSON; GET /rpc upgrades to a WebSocket that carries many calls. Same keys as REST.
 */
export const layer = Layer.mergeAll(
  RpcServer.layer(SandboxRpcs).pipe(
    Layer.provide(RpcServer.layerProtocolHttp({ path: "/rpc", routerTag: HttpApiBuilder.Router })),
  ),
  RpcServer.layer(SandboxRpcs).pipe(
    Layer.provide(RpcServer.layerProtocolWebsocket({ path: "/rpc", routerTag: HttpApiBuilder.Router })),
  ),
).pipe(
  Layer.provide([RpcHandlers.layer, RpcAuthenticationLive.layer, RpcSerialization.layerNdjson]),
  Layer.provide(SandboxShell.layerKube),
)
