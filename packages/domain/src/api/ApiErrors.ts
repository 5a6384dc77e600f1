import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"

/** No API key, or one that matches no tenant. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()(
  "Unauthorized",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 401 }),
) {}

/** The key is valid but may not do this (e.g. a tenant key on an admin route). */
export class Forbidden extends Schema.TaggedError<Forbidden>()(
  "Forbidden",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 403 }),
) {}

export class PoolNotFound extends Schema.TaggedError<PoolNotFound>()(
  "PoolNotFound",
  { namespace: Schema.String, pool: Schema.String, message: Schema.String },
  HttpApiSchema.annotations({ status: 404 }),
) {}

/** Unknown, ended, or another tenant's sandbox: all look the same to the caller. */
export class SandboxNotFound extends Schema.TaggedError<SandboxNotFound>()(
  "SandboxNotFound",
  { sandboxId: Schema.String, message: Schema.String },
  HttpApiSchema.annotations({ status: 404 }),
) {}

/** The request is well-formed but asks for something the pool forbids (e.g. a timeout over its maximum). */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()(
  "InvalidRequest",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 400 }),
) {}

/** No Pod became free before the deadline; retry after `retryAfterSeconds` (also sent as Retry-After). */
export class CapacityUnavailable extends Schema.TaggedError<CapacityUnavailable>()(
  "CapacityUnavailable",
  { message: Schema.String, retryAfterSeconds: Schema.Int },
  HttpApiSchema.annotations({ status: 503 }),
) {}

/** Too many callers are already waiting for this pool; back off (also sent as Retry-After). */
export class TooManyWaiting extends Schema.TaggedError<TooManyWaiting>()(
  "TooManyWaiting",
  { message: Schema.String, retryAfterSeconds: Schema.Int },
  HttpApiSchema.annotations({ status: 429 }),
) {}

/** The Kubernetes API failed in a way the caller cannot fix. */
export class ClusterUnavailable extends Schema.TaggedError<ClusterUnavailable>()(
  "ClusterUnavailable",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 503 }),
) {}

/**
 * The sandbox's image cannot run: its kubelet reports a pull that fails (a missing image, a
 * registry refusing it) or a container that cannot start. The sandbox was ended; nothing is left
 * allocated. `reason` is the kubelet's (ErrImagePull, ImagePullBackOff, CrashLoopBackOff, ...).
 */
export class SandboxImageFailed extends Schema.TaggedError<SandboxImageFailed>()(
  "SandboxImageFailed",
  { image: Schema.String, reason: Schema.String, message: Schema.String },
  HttpApiSchema.annotations({ status: 422 }),
) {}

/**
 * The sandbox did not become Ready on its image within the pool's startupTimeoutSeconds. The
 * sandbox was ended; nothing is left allocated.
 */
export class SandboxStartupTimeout extends Schema.TaggedError<SandboxStartupTimeout>()(
  "SandboxStartupTimeout",
  { image: Schema.String, timeoutSeconds: Schema.Int, message: Schema.String },
  HttpApiSchema.annotations({ status: 504 }),
) {}

/** No API key with this id (never minted, or already revoked). */
export class ApiKeyNotFound extends Schema.TaggedError<ApiKeyNotFound>()(
  "ApiKeyNotFound",
  { id: Schema.String, message: Schema.String },
  HttpApiSchema.annotations({ status: 404 }),
) {}

/** The sandbox could not run the command (its container is not running, or the connection broke). */
export class ExecFailed extends Schema.TaggedError<ExecFailed>()(
  "ExecFailed",
  { sandboxId: Schema.String, message: Schema.String },
  HttpApiSchema.annotations({ status: 502 }),
) {}

/**
 * The pool's template does not allow this image: only its own images, its runtimes' and those its
 * `allowedImages` lists (by prefix or digest) may run in its Pods.
 */
export class ImageNotAllowed extends Schema.TaggedError<ImageNotAllowed>()(
  "ImageNotAllowed",
  { image: Schema.String, message: Schema.String },
  HttpApiSchema.annotations({ status: 403 }),
) {}

/**
 * The key's tenant is at one of its quotas (sandboxes allocated, allocations waiting, creates per
 * second); retry after `retryAfterSeconds` (also sent as Retry-After).
 */
export class QuotaExceeded extends Schema.TaggedError<QuotaExceeded>()(
  "QuotaExceeded",
  {
    quota: Schema.Literal("maxAllocated", "maxWaiting", "createsPerSecond"),
    limit: Schema.Number,
    message: Schema.String,
    retryAfterSeconds: Schema.Int,
  },
  HttpApiSchema.annotations({ status: 429 }),
) {}

/** The request body is larger than the server accepts (refused before it is read whole). */
export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()(
  "PayloadTooLarge",
  { limitBytes: Schema.Int, message: Schema.String },
  HttpApiSchema.annotations({ status: 413 }),
) {}
