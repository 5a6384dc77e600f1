import { Schema } from "effect"
import { DnsLabel } from "../resources/Names.ts"

/** User metadata kept with a sandbox and filterable in lists. */
export const SandboxMetadata = Schema.Record({
  key: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(63)),
  value: Schema.String.pipe(Schema.maxLength(256)),
}).pipe(
  Schema.filter((m) => Object.keys(m).length <= 32 || "at most 32 metadata entries"),
  Schema.annotations({ description: "String key/value pairs kept with the sandbox (at most 32)." }),
)

const TimeoutSeconds = Schema.Int.pipe(
  Schema.between(1, 31_536_000),
  Schema.annotations({ description: "Seconds until the sandbox expires; capped by the pool's maximum." }),
)

export class CreateSandboxRequest extends Schema.Class<CreateSandboxRequest>("CreateSandboxRequest")({
  pool: DnsLabel.annotations({ description: "The SandboxPool to take a warm Pod from." }),
  namespace: Schema.optional(
    DnsLabel.annotations({ description: "The pool's namespace (default: the server's)." }),
  ),
  timeoutSeconds: Schema.optional(TimeoutSeconds),
  metadata: Schema.optional(SandboxMetadata),
}) {}

export class BatchCreateSandboxesRequest extends Schema.Class<BatchCreateSandboxesRequest>(
  "BatchCreateSandboxesRequest",
)({
  pool: DnsLabel,
  namespace: Schema.optional(DnsLabel),
  count: Schema.Int.pipe(
    Schema.between(1, 1000),
    Schema.annotations({ description: "How many sandboxes; all are allocated or none." }),
  ),
  timeoutSeconds: Schema.optional(TimeoutSeconds),
  metadata: Schema.optional(SandboxMetadata),
}) {}

export class ExtendTimeoutRequest extends Schema.Class<ExtendTimeoutRequest>("ExtendTimeoutRequest")({
  timeoutSeconds: TimeoutSeconds,
}) {}

export class Sandbox extends Schema.Class<Sandbox>("Sandbox")({
  id: Schema.String,
  namespace: Schema.String,
  pool: Schema.String,
  /** The Pod serving it (the same Pod may serve later sandboxes once recycled). */
  pod: Schema.String,
  tenant: Schema.String,
  image: Schema.String,
  allocatedAt: Schema.DateTimeUtc,
  expiresAt: Schema.DateTimeUtc,
  metadata: Schema.Record({ key: Schema.String, value: Schema.String }),
}) {}

export class SandboxBatch extends Schema.Class<SandboxBatch>("SandboxBatch")({
  sandboxes: Schema.Array(Sandbox),
}) {}

export const ListSandboxesParams = Schema.Struct({
  namespace: Schema.optional(DnsLabel),
  pool: Schema.optional(DnsLabel),
  metadata: Schema.optional(
    Schema.String.annotations({
      description: "Filter: url-encoded k=v pairs joined by '&', all must match.",
    }),
  ),
  limit: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 1000))),
  cursor: Schema.optional(Schema.String),
})

export class SandboxPage extends Schema.Class<SandboxPage>("SandboxPage")({
  items: Schema.Array(Sandbox),
  nextCursor: Schema.optional(Schema.String),
}) {}

export class PoolSummary extends Schema.Class<PoolSummary>("PoolSummary")({
  namespace: Schema.String,
  name: Schema.String,
  template: Schema.String,
  replicas: Schema.Int,
  idle: Schema.Int,
  allocated: Schema.Int,
  starting: Schema.Int,
}) {}

export class TemplateSummary extends Schema.Class<TemplateSummary>("TemplateSummary")({
  name: Schema.String,
  image: Schema.String,
  idleImage: Schema.optional(Schema.String),
  runtimes: Schema.Array(Schema.String),
}) {}
