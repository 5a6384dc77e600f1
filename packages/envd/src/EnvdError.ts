import { Code, ConnectError } from "@connectrpc/connect"
import { Schema } from "effect"
import type { SandboxResolveError } from "./SandboxTarget.ts"

/** The Connect codes envd answers with; the SDKs turn not_found / already_exists into booleans. */
export const EnvdErrorCode = Schema.Literal(
  "canceled",
  "invalid_argument",
  "deadline_exceeded",
  "not_found",
  "already_exists",
  "permission_denied",
  "resource_exhausted",
  "failed_precondition",
  "unimplemented",
  "internal",
  "unavailable",
  "unauthenticated",
)
export type EnvdErrorCode = typeof EnvdErrorCode.Type

/** A failure of an envd operation, carrying the code the client sees. */
export class EnvdError extends Schema.TaggedError<EnvdError>()("EnvdError", {
  code: EnvdErrorCode,
  message: Schema.String,
}) {}

export const envdError = (code: EnvdErrorCode, message: string): EnvdError => new EnvdError({ code, message })

const connectCodes: Record<EnvdErrorCode, Code> = {
  canceled: Code.Canceled,
  invalid_argument: Code.InvalidArgument,
  deadline_exceeded: Code.DeadlineExceeded,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  permission_denied: Code.PermissionDenied,
  resource_exhausted: Code.ResourceExhausted,
  failed_precondition: Code.FailedPrecondition,
  unimplemented: Code.Unimplemented,
  internal: Code.Internal,
  unavailable: Code.Unavailable,
  unauthenticated: Code.Unauthenticated,
}

export const toConnectError = (error: EnvdError): ConnectError =>
  new ConnectError(error.message, connectCodes[error.code])

/**
 * HTTP status for the plain endpoints (/files): the JS SDK maps 400, 401, 404, 429, 502 and 507;
 * a 502 means "sandbox gone" to both SDKs.
 */
export const httpStatus = (code: EnvdErrorCode): number => {
  switch (code) {
    case "invalid_argument":
      return 400
    case "unauthenticated":
      return 401
    case "permission_denied":
      return 403
    case "not_found":
      return 404
    case "already_exists":
      return 409
    case "resource_exhausted":
      return 507
    case "unavailable":
      return 502
    case "deadline_exceeded":
      return 504
    case "unimplemented":
      return 501
    default:
      return 500
  }
}

/** Resolver failures, as envd-level errors (an unknown sandbox reads as "unavailable", like E2B's proxy). */
export const fromResolveError = (error: SandboxResolveError): EnvdError => {
  switch (error.reason) {
    case "NotFound":
    case "Unavailable":
      return envdError("unavailable", error.message)
    case "Unauthenticated":
      return envdError("unauthenticated", error.message)
    case "Forbidden":
      return envdError("permission_denied", error.message)
  }
}
