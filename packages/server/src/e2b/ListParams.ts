/**
 * The query of `GET /v2/sandboxes` (and the older `GET /sandboxes`), as the E2B API's schema
 * decoded it, made a ListQuery, or why not: what the schema cannot say (the metadata filter's
 * double encoding, comma-separated states, a token this server issued).
 */
import { E2bModels } from "@agent-sandbox/domain"
import { DateTime, Either, Schema } from "effect"
import * as MetadataQuery from "./MetadataQuery.ts"
import * as SandboxListing from "./SandboxListing.ts"

export type Parsed =
  | { readonly _tag: "Query"; readonly query: SandboxListing.ListQuery }
  | { readonly _tag: "Invalid"; readonly message: string }

const invalid = (message: string): Parsed => ({ _tag: "Invalid", message })

const decodeToken = Schema.decodeUnknownEither(SandboxListing.NextToken)

/** `paged`: the v2 list (limit, nextToken); the v1 list answers everything in one reply. */
export const parse = (params: E2bModels.ListSandboxesV2Params, paged: boolean): Parsed => {
  const metadata = params.metadata === undefined ? {} : MetadataQuery.parse(params.metadata)
  if (metadata === undefined) return invalid("metadata must be url-encoded key=value pairs joined by '&'")

  // The SDKs send `state=running,paused`; repeated parameters are accepted too.
  const states = (params.state === undefined ? [] : [params.state].flat())
    .flatMap((s) => s.split(","))
    .filter((s) => s !== "")
  const unknownState = states.find((s) => s !== "running" && s !== "paused")
  if (unknownState !== undefined) return invalid(`state must be 'running' or 'paused', not '${unknownState}'`)

  let after: SandboxListing.Position | undefined
  if (paged && params.nextToken !== undefined && params.nextToken !== "") {
    const decoded = decodeToken(params.nextToken)
    if (Either.isLeft(decoded)) return invalid("nextToken is not one this server issued")
    after = decoded.right
  }

  return {
    _tag: "Query",
    query: {
      metadata,
      includeRunning: states.length === 0 || states.includes("running"),
      template: params.template === "" ? undefined : params.template,
      startedAfter:
        params.startedAfter === undefined ? undefined : DateTime.toEpochMillis(params.startedAfter),
      order: params.order ?? "desc",
      limit: paged ? (params.limit ?? E2bModels.maxListLimit) : Number.MAX_SAFE_INTEGER,
      after,
    },
  }
}
