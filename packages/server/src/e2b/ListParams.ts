/** The query of `GET /v2/sandboxes` (and the older `GET /sandboxes`) as a ListQuery, or why not. */
import * as MetadataQuery from "./MetadataQuery.ts"
import * as SandboxListing from "./SandboxListing.ts"

export const maxLimit = 100

export type Parsed =
  | { readonly _tag: "Query"; readonly query: SandboxListing.ListQuery }
  | { readonly _tag: "Invalid"; readonly message: string }

const invalid = (message: string): Parsed => ({ _tag: "Invalid", message })

/** `paged`: the v2 list (limit, nextToken); the v1 list answers everything in one reply. */
export const parse = (params: URLSearchParams, paged: boolean): Parsed => {
  const metadataText = params.get("metadata")
  const metadata = metadataText === null ? {} : MetadataQuery.parse(metadataText)
  if (metadata === undefined) return invalid("metadata must be url-encoded key=value pairs joined by '&'")

  // The SDKs send `state=running,paused`; repeated parameters are accepted too.
  const states = params
    .getAll("state")
    .flatMap((s) => s.split(","))
    .filter((s) => s !== "")
  const unknownState = states.find((s) => s !== "running" && s !== "paused")
  if (unknownState !== undefined) return invalid(`state must be 'running' or 'paused', not '${unknownState}'`)

  const startedAfterText = params.get("startedAfter")
  const startedAfter = startedAfterText === null ? undefined : Date.parse(startedAfterText)
  if (startedAfter !== undefined && Number.isNaN(startedAfter)) {
    return invalid("startedAfter must be an RFC 3339 timestamp")
  }

  const order = params.get("order") ?? "desc"
  if (order !== "asc" && order !== "desc") return invalid("order must be 'asc' or 'desc'")

  const limitText = params.get("limit")
  const limit = !paged ? Number.MAX_SAFE_INTEGER : limitText === null ? maxLimit : Number(limitText)
  if (!Number.isInteger(limit) || limit < 1 || (paged && limit > maxLimit)) {
    return invalid(`limit must be an integer from 1 to ${maxLimit}`)
  }

  const nextToken = paged ? (params.get("nextToken") ?? undefined) : undefined
  if (nextToken !== undefined && nextToken !== "" && SandboxListing.decodeToken(nextToken) === undefined) {
    return invalid("nextToken is not one this server issued")
  }

  const template = params.get("template")
  return {
    _tag: "Query",
    query: {
      metadata,
      includeRunning: states.length === 0 || states.includes("running"),
      template: template === null || template === "" ? undefined : template,
      startedAfter,
      order,
      limit,
      nextToken: nextToken === "" ? undefined : nextToken,
    },
  }
}
