import { Schema } from "effect"

/** Why a Kubernetes API call failed, from the HTTP status and the Status object's reason. */
export const KubeErrorReason = Schema.Literal(
  "BadRequest",
  "Unauthorized",
  "Forbidden",
  "NotFound",
  "AlreadyExists",
  "Conflict",
  "Gone",
  "Invalid",
  "TooManyRequests",
  "Timeout",
  "Unavailable",
  "Transport",
  "Unknown",
)
export type KubeErrorReason = typeof KubeErrorReason.Type

export class KubeError extends Schema.TaggedError<KubeError>()("KubeError", {
  reason: KubeErrorReason,
  status: Schema.Number,
  message: Schema.String,
  /** What was being done, e.g. "patch v1/pods default/sandbox-x". */
  operation: Schema.String,
}) {}

const byStatus = (status: number, statusReason: string | undefined): KubeErrorReason => {
  switch (status) {
    case 400:
      return "BadRequest"
    case 401:
      return "Unauthorized"
    case 403:
      return "Forbidden"
    case 404:
      return "NotFound"
    case 409:
      return statusReason === "AlreadyExists" ? "AlreadyExists" : "Conflict"
    case 410:
      return "Gone"
    case 422:
      return "Invalid"
    case 429:
      return "TooManyRequests"
    case 408:
    case 504:
      return "Timeout"
    case 500:
    case 502:
    case 503:
      return "Unavailable"
    default:
      return "Unknown"
  }
}

const parseStatusBody = (body: unknown): { reason?: string; message?: string } => {
  const value = typeof body === "string" ? safeJson(body) : body
  if (value !== null && typeof value === "object") {
    const { reason, message } = value as { reason?: unknown; message?: unknown }
    return {
      ...(typeof reason === "string" ? { reason } : {}),
      ...(typeof message === "string" ? { message } : {}),
    }
  }
  return {}
}

const safeJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** A KubeError from an HTTP status and a (possibly JSON) metav1.Status body. */
export const fromStatus = (operation: string, status: number, body: unknown): KubeError => {
  const parsed = parseStatusBody(body)
  return new KubeError({
    reason: byStatus(status, parsed.reason),
    status,
    message: parsed.message ?? (typeof body === "string" && body.length > 0 ? body : `HTTP ${status}`),
    operation,
  })
}

/** Maps whatever @kubernetes/client-node (or the network) threw into a KubeError. */
export const fromUnknown =
  (operation: string) =>
  (cause: unknown): KubeError => {
    if (cause instanceof KubeError) return cause
    if (cause !== null && typeof cause === "object" && "code" in cause && typeof cause.code === "number") {
      return fromStatus(operation, cause.code, (cause as { body?: unknown }).body)
    }
    return new KubeError({
      reason: "Transport",
      status: 0,
      message: cause instanceof Error ? cause.message : String(cause),
      operation,
    })
  }

/** A predicate for `Effect.catchIf` and friends: a KubeError with one of these reasons. */
export const hasReason =
  (...reasons: ReadonlyArray<KubeErrorReason>) =>
  (error: unknown): error is KubeError =>
    error instanceof KubeError && reasons.includes(error.reason)
