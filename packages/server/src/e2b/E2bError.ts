/**
 * Errors of the E2B control plane, answered as E2B does: `{"code": <HTTP status>, "message"}`.
 * The JS SDK reads the status from `code` (404 becomes "not found" / `false` on kill), both SDKs
 * turn 401, 429 and 503 into their authentication, rate-limit and service-busy errors.
 */
import type {
  CapacityUnavailable,
  ClusterUnavailable,
  InvalidRequest,
  PoolNotFound,
  SandboxImageFailed,
  SandboxNotFound,
  SandboxStartupTimeout,
  TooManyWaiting,
  Unauthorized,
} from "@agent-sandbox/domain"
import { Schema } from "effect"

export class E2bError extends Schema.TaggedError<E2bError>()("E2bError", {
  status: Schema.Int,
  message: Schema.String,
  retryAfterSeconds: Schema.optional(Schema.Int),
}) {}

export const badRequest = (message: string) => new E2bError({ status: 400, message })

export const notFound = (message: string) => new E2bError({ status: 404, message })

/** A feature of E2B this server does not have (pause, snapshots, volumes, ...). */
export const unsupported = (feature: string) =>
  new E2bError({ status: 501, message: `${feature} is not supported by this server (Agent Sandbox)` })

export type DomainError =
  | Unauthorized
  | PoolNotFound
  | SandboxNotFound
  | InvalidRequest
  | CapacityUnavailable
  | TooManyWaiting
  | ClusterUnavailable
  | SandboxImageFailed
  | SandboxStartupTimeout

export const fromDomain = (error: DomainError): E2bError => {
  switch (error._tag) {
    case "Unauthorized":
      return new E2bError({ status: 401, message: error.message })
    case "PoolNotFound":
      return notFound(`template '${error.pool}' not found (no SandboxPool ${error.namespace}/${error.pool})`)
    case "SandboxNotFound":
      return notFound(`sandbox ${error.sandboxId} not found`)
    case "InvalidRequest":
      return badRequest(error.message)
    case "CapacityUnavailable":
      return new E2bError({ status: 503, message: error.message, retryAfterSeconds: error.retryAfterSeconds })
    case "TooManyWaiting":
      return new E2bError({ status: 429, message: error.message, retryAfterSeconds: error.retryAfterSeconds })
    case "ClusterUnavailable":
      return new E2bError({ status: 503, message: error.message })
    case "SandboxImageFailed":
      return new E2bError({ status: 422, message: error.message })
    case "SandboxStartupTimeout":
      return new E2bError({ status: 504, message: error.message })
  }
}

export const body = (error: E2bError) => ({ code: error.status, message: error.message })
