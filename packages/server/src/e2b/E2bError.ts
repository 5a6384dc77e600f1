/**
 * The E2B control plane's errors: the domain's E2B error schemas (`{"code", "message"}` with the
 * HTTP status), and how the operator's typed errors read through E2B. 503 and 429 also carry
 * Retry-After (RetryAfter.ts).
 */
import {
  type CapacityUnavailable,
  type ClusterUnavailable,
  E2bErrors,
  type ImageNotAllowed,
  type InvalidRequest,
  type PoolNotFound,
  type QuotaExceeded,
  type SandboxImageFailed,
  type SandboxNotFound,
  type SandboxStartupTimeout,
  type TooManyWaiting,
  type Unauthorized,
} from "@agent-sandbox/domain"

export type E2bError = E2bErrors.E2bError

export const badRequest = (message: string) => new E2bErrors.E2bBadRequest({ message })

export const notFound = (message: string) => new E2bErrors.E2bNotFound({ message })

/** A feature of E2B this server does not have (pause, snapshots, volumes, ...). */
export const unsupported = (feature: string) =>
  new E2bErrors.E2bNotImplemented({
    message: `${feature} is not supported by this server (Agent Sandbox)`,
  })

export const unavailable = (message: string) => new E2bErrors.E2bUnavailable({ message })

export const internal = new E2bErrors.E2bInternalError({ message: "internal error" })

export type DomainError =
  | Unauthorized
  | PoolNotFound
  | SandboxNotFound
  | InvalidRequest
  | CapacityUnavailable
  | TooManyWaiting
  | QuotaExceeded
  | ImageNotAllowed
  | ClusterUnavailable
  | SandboxImageFailed
  | SandboxStartupTimeout

export const fromDomain = (error: DomainError): E2bError => {
  switch (error._tag) {
    case "Unauthorized":
      return new E2bErrors.E2bUnauthorized({ message: error.message })
    case "PoolNotFound":
      return notFound(`template '${error.pool}' not found (no SandboxPool ${error.namespace}/${error.pool})`)
    case "SandboxNotFound":
      return notFound(`sandbox ${error.sandboxId} not found`)
    case "InvalidRequest":
      return badRequest(error.message)
    case "CapacityUnavailable":
    case "ClusterUnavailable":
      return new E2bErrors.E2bUnavailable({ message: error.message })
    case "TooManyWaiting":
    case "QuotaExceeded":
      return new E2bErrors.E2bTooManyRequests({ message: error.message })
    case "ImageNotAllowed":
      return new E2bErrors.E2bForbidden({ message: error.message })
    case "SandboxImageFailed":
      return new E2bErrors.E2bUnprocessable({ message: error.message })
    case "SandboxStartupTimeout":
      return new E2bErrors.E2bStartupTimeout({ message: error.message })
  }
}
