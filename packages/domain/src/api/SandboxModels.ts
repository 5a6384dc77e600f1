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

const RuntimeName = DnsLabel.annotations({
  description:
    "A runtime of the pool's template (template.runtimes[].name): the sandbox runs that runtime's image. Exclusive with image.",
})

const ImageReference = Schema.String.pipe(
  Schema.minLength(1),
  Schema.maxLength(1024),
  Schema.pattern(/^[a-z0-9][a-zA-Z0-9._\-/:@]*$/),
  Schema.annotations({
    description:
      "A container image for the sandbox (any image with a shell works with the data plane): the warm Pod switches to it in place. Exclusive with runtime.",
  }),
)

const Wait = Schema.Boolean.annotations({
  description:
    "When the sandbox must switch image: true (default) answers once it is Ready on that image (bounded by the pool's startupTimeoutSeconds); false answers at once with ready: false, and GET tells when it is ready.",
})

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
  runtime: Schema.optional(RuntimeName),
  image: Schema.optional(ImageReference),
  wait: Schema.optional(Wait),
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
  runtime: Schema.optional(RuntimeName),
  image: Schema.optional(ImageReference),
  wait: Schema.optional(Wait),
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
  runtime: Schema.optional(
    Schema.String.annotations({ description: "The runtime the request chose, if any." }),
  ),
  ready: Schema.Boolean.annotations({
    description:
      "Whether the sandbox container runs its image and is Ready (false while a switch of image is under way).",
  }),
  imageError: Schema.optional(
    Schema.String.annotations({
      description:
        "Why the sandbox's image does not run, as its kubelet reports it (e.g. 'ErrImagePull: ...'). A sandbox that is not Ready within the pool's startupTimeoutSeconds is ended.",
    }),
  ),
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
