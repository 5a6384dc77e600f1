/**
 * The E2B API's errors as its SDKs read them: the body `{"code": <HTTP status>, "message": "..."}`
 * with that HTTP status (the JS SDK takes the status from `code`; both SDKs turn 401, 404, 429 and
 * 503 into their own errors). One schema per status, because an HttpApi error's status belongs to
 * its schema; `code` fills itself in.
 */
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"

const fields = <const Code extends number>(code: Code) => ({
  code: Schema.Literal(code).pipe(
    Schema.propertySignature,
    Schema.withConstructorDefault(() => code),
  ),
  message: Schema.String,
})

export class E2bBadRequest extends Schema.Class<E2bBadRequest>("E2bBadRequest")(
  fields(400),
  HttpApiSchema.annotations({ status: 400, description: "The request is malformed or invalid." }),
) {}

export class E2bUnauthorized extends Schema.Class<E2bUnauthorized>("E2bUnauthorized")(
  fields(401),
  HttpApiSchema.annotations({ status: 401, description: "No API key, or one that matches no tenant." }),
) {}

export class E2bForbidden extends Schema.Class<E2bForbidden>("E2bForbidden")(
  fields(403),
  HttpApiSchema.annotations({ status: 403, description: "The key may not do this." }),
) {}

export class E2bNotFound extends Schema.Class<E2bNotFound>("E2bNotFound")(
  fields(404),
  HttpApiSchema.annotations({
    status: 404,
    description: "Unknown, ended or another tenant's sandbox; an unknown template (pool) or path.",
  }),
) {}

export class E2bPayloadTooLarge extends Schema.Class<E2bPayloadTooLarge>("E2bPayloadTooLarge")(
  fields(413),
  HttpApiSchema.annotations({
    status: 413,
    description: "The request body is larger than the server accepts (refused before it is read whole).",
  }),
) {}

export class E2bUnprocessable extends Schema.Class<E2bUnprocessable>("E2bUnprocessable")(
  fields(422),
  HttpApiSchema.annotations({ status: 422, description: "The sandbox's image cannot run (it was ended)." }),
) {}

export class E2bTooManyRequests extends Schema.Class<E2bTooManyRequests>("E2bTooManyRequests")(
  fields(429),
  HttpApiSchema.annotations({
    status: 429,
    description:
      "Too many callers wait for this pool already, or the key's tenant is at a quota; retry after Retry-After seconds.",
  }),
) {}

export class E2bInternalError extends Schema.Class<E2bInternalError>("E2bInternalError")(
  fields(500),
  HttpApiSchema.annotations({ status: 500, description: "An error of the server." }),
) {}

export class E2bNotImplemented extends Schema.Class<E2bNotImplemented>("E2bNotImplemented")(
  fields(501),
  HttpApiSchema.annotations({
    status: 501,
    description: "An E2B feature this server does not have (pause, snapshots, templates, ...).",
  }),
) {}

export class E2bUnavailable extends Schema.Class<E2bUnavailable>("E2bUnavailable")(
  fields(503),
  HttpApiSchema.annotations({
    status: 503,
    description:
      "No sandbox became free in time, or the cluster does not answer; retry after Retry-After seconds.",
  }),
) {}

export class E2bStartupTimeout extends Schema.Class<E2bStartupTimeout>("E2bStartupTimeout")(
  fields(504),
  HttpApiSchema.annotations({
    status: 504,
    description: "The sandbox was not Ready on its image within the pool's startup timeout (it was ended).",
  }),
) {}

/** Any of them (`Schema.is(E2bError)` tells an E2B error from any other failure). */
export const E2bError = Schema.Union(
  E2bBadRequest,
  E2bUnauthorized,
  E2bForbidden,
  E2bNotFound,
  E2bPayloadTooLarge,
  E2bUnprocessable,
  E2bTooManyRequests,
  E2bInternalError,
  E2bNotImplemented,
  E2bUnavailable,
  E2bStartupTimeout,
)
export type E2bError = typeof E2bError.Type
