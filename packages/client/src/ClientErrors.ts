/**
 * The Promise API's errors: one Error subclass per failure of the API (the domain's tagged errors),
 * so `catch (e) { if (e instanceof SandboxNotFoundError) ... }` works without Effect.
 */
export class AgentSandboxError extends Error {
  override readonly name: string = "AgentSandboxError"
  /** The domain error's tag (e.g. "SandboxNotFound"), or "Transport" / "Decode". */
  readonly tag: string
  constructor(tag: string, message: string, options?: { readonly cause?: unknown }) {
    super(message, options)
    this.tag = tag
  }
}

/** No API key, or one that matches no tenant (HTTP 401). */
export class UnauthorizedError extends AgentSandboxError {
  override readonly name: string = "UnauthorizedError"
}

/** The key may not do this, e.g. a tenant key on an admin route (HTTP 403). */
export class ForbiddenError extends AgentSandboxError {
  override readonly name: string = "ForbiddenError"
}

/** Unknown, ended or another tenant's sandbox; an unknown pool or API key (HTTP 404). */
export class NotFoundError extends AgentSandboxError {
  override readonly name: string = "NotFoundError"
}

export class SandboxNotFoundError extends NotFoundError {
  override readonly name: string = "SandboxNotFoundError"
}

export class PoolNotFoundError extends NotFoundError {
  override readonly name: string = "PoolNotFoundError"
}

export class ApiKeyNotFoundError extends NotFoundError {
  override readonly name: string = "ApiKeyNotFoundError"
}

/** The request asks for something the server or the pool forbids (HTTP 400). */
export class InvalidRequestError extends AgentSandboxError {
  override readonly name: string = "InvalidRequestError"
}

/**
 * No capacity now, or the key's tenant is at a quota: retry after `retryAfterSeconds` (HTTP 503
 * CapacityUnavailable, 429 TooManyWaiting or QuotaExceeded).
 */
export class CapacityError extends AgentSandboxError {
  override readonly name: string = "CapacityError"
  readonly retryAfterSeconds: number
  constructor(tag: string, message: string, retryAfterSeconds: number) {
    super(tag, message)
    this.retryAfterSeconds = retryAfterSeconds
  }
}

/** The sandbox's image cannot run, or did not become Ready in time; the sandbox was ended. */
export class SandboxStartError extends AgentSandboxError {
  override readonly name: string = "SandboxStartError"
}

/** The Kubernetes API failed in a way the caller cannot fix (HTTP 503). */
export class ClusterUnavailableError extends AgentSandboxError {
  override readonly name: string = "ClusterUnavailableError"
}

/** The server could not be reached, or answered something this client does not understand. */
export class TransportError extends AgentSandboxError {
  override readonly name: string = "TransportError"
}

const messageOf = (error: object): string =>
  "message" in error && typeof error.message === "string" ? error.message : String(error)

/** The Error for an Effect failure of the typed client (a domain error, HttpClientError, ParseError). */
export const fromFailure = (error: unknown): AgentSandboxError => {
  if (typeof error !== "object" || error === null || !("_tag" in error) || typeof error._tag !== "string") {
    return new TransportError("Transport", String(error), { cause: error })
  }
  const tag = error._tag
  const message = messageOf(error)
  switch (tag) {
    case "Unauthorized":
      return new UnauthorizedError(tag, message)
    case "Forbidden":
      return new ForbiddenError(tag, message)
    case "SandboxNotFound":
      return new SandboxNotFoundError(tag, message)
    case "PoolNotFound":
      return new PoolNotFoundError(tag, message)
    case "ApiKeyNotFound":
      return new ApiKeyNotFoundError(tag, message)
    case "InvalidRequest":
      return new InvalidRequestError(tag, message)
    case "ImageNotAllowed":
      return new ForbiddenError(tag, message)
    case "PayloadTooLarge":
      return new InvalidRequestError(tag, message)
    case "CapacityUnavailable":
    case "TooManyWaiting":
    case "QuotaExceeded":
      return new CapacityError(
        tag,
        message,
        "retryAfterSeconds" in error && typeof error.retryAfterSeconds === "number"
          ? error.retryAfterSeconds
          : 1,
      )
    case "SandboxImageFailed":
    case "SandboxStartupTimeout":
      return new SandboxStartError(tag, message)
    case "ClusterUnavailable":
      return new ClusterUnavailableError(tag, message)
    case "ParseError":
      return new TransportError("Decode", message, { cause: error })
    default:
      return new TransportError("Transport", message, { cause: error })
  }
}
