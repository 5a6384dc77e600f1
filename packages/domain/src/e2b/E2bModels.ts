/**
 * The E2B API's JSON, as the published SDKs (npm e2b 2.x, PyPI e2b 2.x) send and read it. Request
 * bodies decode leniently (unknown fields ignored, null as absent); replies carry E2B's field
 * names exactly.
 */
import { Schema } from "effect"
import { SandboxMetadata } from "../api/SandboxModels.ts"

const optionalNullable = <A, I>(schema: Schema.Schema<A, I>) => Schema.optional(Schema.NullOr(schema))

const Seconds = Schema.Int.pipe(Schema.between(0, 31_536_000))

/**
 * Any JSON value. Plain Schema.Unknown documents itself as `{"$id": "/schemas/unknown"}`, a rootless
 * id that OpenAPI tools (schemathesis) cannot resolve references against: say "any value" plainly.
 */
const AnyValue = Schema.Unknown.annotations({
  jsonSchema: {
    description: "Any JSON value.",
    anyOf: ["object", "array", "string", "number", "boolean", "null"].map((type) => ({ type })),
  },
})

const EnvVars = Schema.Record({ key: Schema.String, value: Schema.String })

/** `POST /sandboxes` (NewSandbox) and `POST /v2/sandboxes` (NewSandboxV2). */
export const NewSandbox = Schema.Struct({
  templateID: Schema.String.annotations({
    description: "A SandboxPool: `pool` (default namespace) or `namespace/pool`; `:runtime` picks a runtime.",
  }),
  timeout: optionalNullable(Seconds),
  metadata: optionalNullable(SandboxMetadata),
  envVars: optionalNullable(EnvVars),
  secure: optionalNullable(Schema.Boolean),
  allow_internet_access: optionalNullable(Schema.Boolean),
  autoPause: optionalNullable(Schema.Boolean),
  autoPauseMemory: optionalNullable(Schema.Boolean),
  autoResume: optionalNullable(Schema.Struct({ enabled: optionalNullable(Schema.Boolean) })),
  mcp: Schema.optional(AnyValue),
  network: Schema.optional(AnyValue),
  iam: Schema.optional(AnyValue),
  volumeMounts: optionalNullable(Schema.Array(AnyValue)),
}).annotations({ identifier: "E2bNewSandbox" })
export type NewSandbox = typeof NewSandbox.Type

/**
 * `POST /sandboxes/{id}/connect` and `/v2/…/connect`. This body and the refresh's may be absent
 * (null: some SDK calls send none); absent reads as `{}`.
 */
export const ConnectSandbox = Schema.Struct({
  timeout: optionalNullable(Seconds),
  memory: optionalNullable(Schema.Boolean),
}).annotations({ identifier: "E2bConnectSandbox" })

/** `POST /sandboxes/{id}/timeout`. */
export const SandboxTimeoutRequest = Schema.Struct({ timeout: Seconds }).annotations({
  identifier: "E2bSandboxTimeoutRequest",
})

/** `POST /sandboxes/{id}/refreshes`. */
export const SandboxRefreshRequest = Schema.Struct({ duration: optionalNullable(Seconds) }).annotations({
  identifier: "E2bSandboxRefreshRequest",
})

/** The reply of create and connect (E2B's `Sandbox`). */
export const Sandbox = Schema.Struct({
  sandboxID: Schema.String,
  templateID: Schema.String,
  alias: Schema.String.annotations({ description: "The pool's name." }),
  clientID: Schema.String.annotations({ description: "The Pod serving the sandbox." }),
  envdVersion: Schema.String,
  envdAccessToken: Schema.optional(Schema.String),
  trafficAccessToken: Schema.NullOr(Schema.String),
  domain: Schema.NullOr(Schema.String),
}).annotations({ identifier: "E2bSandbox" })
export type Sandbox = typeof Sandbox.Type

const Rfc3339 = Schema.String.annotations({ description: "RFC 3339 time" })

const VolumeMount = Schema.Struct({ name: Schema.String, path: Schema.String })

/** An item of the lists (E2B's `ListedSandbox`). */
export const ListedSandbox = Schema.Struct({
  sandboxID: Schema.String,
  templateID: Schema.String,
  alias: Schema.String,
  clientID: Schema.String,
  startedAt: Rfc3339,
  endAt: Rfc3339,
  cpuCount: Schema.Number,
  memoryMB: Schema.Number,
  diskSizeMB: Schema.Number,
  metadata: Schema.Record({ key: Schema.String, value: Schema.String }),
  state: Schema.Literal("running", "paused"),
  envdVersion: Schema.String,
  volumeMounts: Schema.Array(VolumeMount),
}).annotations({ identifier: "E2bListedSandbox" })
export type ListedSandbox = typeof ListedSandbox.Type

/** `GET /sandboxes/{id}` (E2B's `SandboxDetail`). */
export const SandboxDetail = Schema.Struct({
  ...ListedSandbox.fields,
  envdAccessToken: Schema.optional(Schema.String),
  domain: Schema.NullOr(Schema.String),
  allowInternetAccess: Schema.NullOr(Schema.Boolean),
}).annotations({ identifier: "E2bSandboxDetail" })
export type SandboxDetail = typeof SandboxDetail.Type

/** The filters of both lists. */
const listFilters = {
  metadata: Schema.optional(
    Schema.String.annotations({
      description:
        "url-encoded key=value pairs joined by '&' (each part encoded, as the SDKs do); all must match",
    }),
  ),
  state: Schema.optional(
    Schema.Union(Schema.String, Schema.Array(Schema.String)).annotations({
      description: "'running' and/or 'paused', comma-separated or repeated (every sandbox here runs)",
    }),
  ),
  template: Schema.optional(Schema.String.annotations({ description: "A templateID or a pool's name" })),
  startedAfter: Schema.optional(Schema.DateTimeUtc),
  order: Schema.optional(
    Schema.Literal("asc", "desc").annotations({ description: "By start time; default desc" }),
  ),
}

export const maxListLimit = 100

/** `GET /sandboxes`: every match in one reply. */
export const ListSandboxesParams = Schema.Struct(listFilters)
export type ListSandboxesParams = typeof ListSandboxesParams.Type

/** `GET /v2/sandboxes`: pages; the next page's token comes back as the `X-Next-Token` header. */
export const ListSandboxesV2Params = Schema.Struct({
  ...listFilters,
  limit: Schema.optional(
    Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, maxListLimit)).annotations({
      description: `Items per page, 1 to ${maxListLimit} (default ${maxListLimit})`,
    }),
  ),
  nextToken: Schema.optional(
    Schema.String.annotations({ description: "The X-Next-Token header of the previous page" }),
  ),
})
export type ListSandboxesV2Params = typeof ListSandboxesV2Params.Type

/** `Idempotency-Key`: a create repeated with the same key returns the first create's sandbox. */
export const CreateHeaders = Schema.Struct({ "idempotency-key": Schema.optional(Schema.String) })
