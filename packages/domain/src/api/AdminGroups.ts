import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { DnsLabel } from "../resources/Names.ts"
import { ApiKeyNotFound, ClusterUnavailable, Forbidden, InvalidRequest, PoolNotFound } from "./ApiErrors.ts"
import {
  ApiKeyInfo,
  CreateApiKeyRequest,
  CreatedApiKey,
  PoolScale,
  ScalePoolRequest,
} from "./ApiKeyModels.ts"
import { Authentication } from "./Authentication.ts"

/** API keys, for admin keys only: the first admin key comes from the install (see the chart's NOTES). */
export class KeysGroup extends HttpApiGroup.make("keys")
  .add(
    HttpApiEndpoint.post("createKey", "/v1/keys")
      .setPayload(CreateApiKeyRequest)
      .addSuccess(CreatedApiKey, { status: 201 })
      .addError(InvalidRequest)
      .annotate(OpenApi.Description, "Mint an API key for a tenant. The key is in this answer only."),
  )
  .add(
    HttpApiEndpoint.get("listKeys", "/v1/keys")
      .addSuccess(Schema.Array(ApiKeyInfo))
      .annotate(OpenApi.Description, "Every key's tenant and id; never the keys themselves."),
  )
  .add(
    HttpApiEndpoint.del("revokeKey", "/v1/keys/:id")
      .setPath(Schema.Struct({ id: Schema.String }))
      .addSuccess(Schema.Void, { status: 204 })
      .addError(ApiKeyNotFound)
      .annotate(OpenApi.Description, "Revoke a key: it stops working within moments on every replica."),
  )
  .addError(Forbidden)
  .addError(ClusterUnavailable)
  .middleware(Authentication) {}

/** Pool administration, for admin keys only. */
export class PoolAdminGroup extends HttpApiGroup.make("poolAdmin")
  .add(
    HttpApiEndpoint.post("scalePool", "/v1/pools/:namespace/:name/scale")
      .setPath(Schema.Struct({ namespace: DnsLabel, name: DnsLabel }))
      .setPayload(ScalePoolRequest)
      .addSuccess(PoolScale)
      .addError(PoolNotFound)
      .annotate(
        OpenApi.Description,
        "Set the pool's warm idle target through its scale subresource (as HPA or KEDA would).",
      ),
  )
  .addError(Forbidden)
  .addError(ClusterUnavailable)
  .middleware(Authentication) {}
