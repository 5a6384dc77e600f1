import { Schema } from "effect"
import { DnsLabel } from "../resources/Names.ts"

/** An API key's public record: never the key itself, which is shown once, when created. */
export class ApiKeyInfo extends Schema.Class<ApiKeyInfo>("ApiKeyInfo")({
  id: Schema.String.annotations({ description: "Names the key for revocation (a prefix of its SHA-256)." }),
  tenant: Schema.String,
  admin: Schema.Boolean,
  createdAt: Schema.optional(Schema.DateTimeUtc),
}) {}

export class CreateApiKeyRequest extends Schema.Class<CreateApiKeyRequest>("CreateApiKeyRequest")({
  tenant: DnsLabel.annotations({
    description: "The tenant the key acts as: it sees and touches only that tenant's sandboxes.",
  }),
  admin: Schema.optional(
    Schema.Boolean.annotations({
      description:
        "An admin key sees every tenant's sandboxes and may manage keys and pools (default false).",
    }),
  ),
}) {}

/** A freshly minted key: `key` is in this answer only; the server keeps its SHA-256 alone. */
export class CreatedApiKey extends Schema.Class<CreatedApiKey>("CreatedApiKey")({
  ...ApiKeyInfo.fields,
  key: Schema.String.annotations({ description: "The key (`e2b_<40 hex>`), shown once." }),
}) {}

export class ScalePoolRequest extends Schema.Class<ScalePoolRequest>("ScalePoolRequest")({
  replicas: Schema.Int.pipe(
    Schema.between(0, 10_000),
    Schema.annotations({ description: "The pool's warm idle target (its scale subresource)." }),
  ),
}) {}

export class PoolScale extends Schema.Class<PoolScale>("PoolScale")({
  namespace: Schema.String,
  name: Schema.String,
  replicas: Schema.Int,
}) {}
