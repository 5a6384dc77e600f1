/**
 * The E2B answer to failures its handlers do not produce themselves: HttpApi's own (a body, query
 * or path that does not decode; the shared Authentication middleware refusing a key), an unknown
 * path, a body that is not JSON, a defect. All come out as E2B's `{"code", "message"}`.
 */
import { E2bErrors, Unauthorized } from "@agent-sandbox/domain"
import { HttpApiError, HttpServerError } from "@effect/platform"
import { Cause, Option, Schema } from "effect"
import * as BodyLimit from "../http/BodyLimit.ts"
import * as E2bError from "./E2bError.ts"

/** Whole E2B APIs this server does not have, by path prefix. */
const unsupportedApis: ReadonlyArray<readonly [prefix: string, feature: string]> = [
  ["/snapshots", "snapshots"],
  ["/templates", "templates (pools are SandboxPool resources)"],
  ["/v2/templates", "templates (pools are SandboxPool resources)"],
  ["/v3/templates", "templates (pools are SandboxPool resources)"],
  ["/volumes", "volumes"],
  ["/secrets", "secrets"],
  ["/teams", "teams"],
]

/** The E2B feature a path belongs to, when this server lacks all of it. */
export const unsupportedApi = (path: string): string | undefined =>
  unsupportedApis.find(([prefix]) => path === prefix || path.startsWith(`${prefix}/`))?.[1]

const isE2bError = Schema.is(E2bErrors.E2bError)

export interface Mapped {
  readonly error: E2bError.E2bError
  /** A failure nobody meant: worth a log line. */
  readonly unexpected: boolean
}

const expected = (error: E2bError.E2bError): Mapped => ({ error, unexpected: false })

const pathOf = (url: string) => new URL(url, "http://e2b.invalid").pathname

const fromFailure = (error: unknown): Mapped => {
  if (isE2bError(error)) return expected(error)
  if (error instanceof HttpApiError.HttpApiDecodeError) {
    return expected(E2bError.badRequest(`invalid request: ${error.message}`))
  }
  if (error instanceof HttpServerError.RouteNotFound) {
    const path = pathOf(error.request.url)
    const feature = unsupportedApi(path)
    return expected(
      feature === undefined
        ? E2bError.notFound(`${error.request.method} ${path} not found`)
        : E2bError.unsupported(feature),
    )
  }
  if (error instanceof Unauthorized)
    return expected(new E2bErrors.E2bUnauthorized({ message: error.message }))
  return { error: E2bError.internal, unexpected: true }
}

export const fromCause = (cause: Cause.Cause<unknown>): Mapped => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) return fromFailure(failure.value)
  const defect = Cause.dieOption(cause)
  if (Option.isSome(defect) && BodyLimit.isOverLimit(defect.value)) {
    return expected(new E2bErrors.E2bPayloadTooLarge({ message: "the request body is too large" }))
  }
  if (Option.isSome(defect)) {
    // HttpApi reads a JSON body with `orDie`: a body that is not JSON arrives as this defect.
    return defect.value instanceof HttpServerError.RequestError && defect.value.reason === "Decode"
      ? expected(E2bError.badRequest("the request body is not JSON"))
      : { error: E2bError.internal, unexpected: true }
  }
  // Interrupted only: the server is stopping (or the client left).
  return expected(new E2bErrors.E2bUnavailable({ message: "the server is stopping" }))
}
