/**
 * The E2B API's OpenAPI document says what goes on the wire: HttpApi lists its own decode error
 * and the Authentication middleware's `Unauthorized` among the responses, but the E2B server
 * answers those as `E2bBadRequest` and `E2bUnauthorized` (server/src/e2b/E2bFailure.ts).
 */
const unsent = new Set(["HttpApiDecodeError", "Issue", "PropertyKey", "Unauthorized"])

interface Schema {
  readonly $ref?: string
  readonly anyOf?: ReadonlyArray<Schema>
}

interface Response {
  content?: Record<string, { schema?: Schema }>
}

interface Spec {
  paths?: Record<string, Record<string, { responses?: Record<string, Response> }>>
  components?: { schemas?: Record<string, unknown> }
}

const isUnsent = (schema: Schema): boolean => unsent.has(schema.$ref?.split("/").at(-1) ?? "")

export const withoutUnsentErrors = (document: Record<string, unknown>): Record<string, unknown> => {
  const spec = document as Spec
  for (const operations of Object.values(spec.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      for (const response of Object.values(operation.responses ?? {})) {
        for (const media of Object.values(response.content ?? {})) {
          const anyOf = media.schema?.anyOf
          if (anyOf === undefined) continue
          const kept = anyOf.filter((schema) => !isUnsent(schema))
          const [only] = kept
          media.schema = kept.length === 1 && only !== undefined ? only : { ...media.schema, anyOf: kept }
        }
      }
    }
  }
  for (const name of unsent) delete spec.components?.schemas?.[name]
  return document
}
