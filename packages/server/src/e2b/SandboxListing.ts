/**
 * The E2B list (`GET /v2/sandboxes`): filters, order by start time, and pages whose cursor
 * (`nextToken`, sent back as the `X-Next-Token` header) is the position of the last item
 * served, so paging stays stable while sandboxes come and go.
 */
export interface Listable {
  readonly sandboxId: string
  /** Epoch ms. */
  readonly startedAt: number
  readonly templateId: string
  readonly pool: string
  readonly metadata: Readonly<Record<string, string>>
}

export type Order = "asc" | "desc"

export interface ListQuery {
  readonly metadata: Readonly<Record<string, string>>
  /** Every sandbox here runs: a query for other states only lists nothing. */
  readonly includeRunning: boolean
  readonly template: string | undefined
  /** Epoch ms. */
  readonly startedAfter: number | undefined
  readonly order: Order
  readonly limit: number
  readonly nextToken: string | undefined
}

export interface ListPage<A> {
  readonly items: ReadonlyArray<A>
  readonly nextToken: string | undefined
  /** Matching sandboxes before paging (the `X-Total-Running` header). */
  readonly total: number
}

interface Position {
  readonly startedAt: number
  readonly sandboxId: string
}

export const encodeToken = (position: Position): string =>
  Buffer.from(JSON.stringify([position.startedAt, position.sandboxId])).toString("base64url")

export const decodeToken = (token: string): Position | undefined => {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"))
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === "number" &&
      typeof parsed[1] === "string"
    ) {
      return { startedAt: parsed[0], sandboxId: parsed[1] }
    }
  } catch {}
  return undefined
}

const compare = (a: Position, b: Position): number =>
  a.startedAt !== b.startedAt
    ? a.startedAt - b.startedAt
    : a.sandboxId < b.sandboxId
      ? -1
      : a.sandboxId > b.sandboxId
        ? 1
        : 0

export const matches = (item: Listable, query: ListQuery): boolean =>
  query.includeRunning &&
  (query.template === undefined || item.templateId === query.template || item.pool === query.template) &&
  (query.startedAfter === undefined || item.startedAt >= query.startedAfter) &&
  Object.entries(query.metadata).every(([k, v]) => item.metadata[k] === v)

/** One page; the caller has checked that `nextToken`, if any, decodes. */
export const page = <A extends Listable>(items: ReadonlyArray<A>, query: ListQuery): ListPage<A> => {
  const direction = query.order === "asc" ? 1 : -1
  const matching = items.filter((item) => matches(item, query))
  const after = query.nextToken === undefined ? undefined : decodeToken(query.nextToken)
  const ordered = matching
    .filter((item) => after === undefined || direction * compare(item, after) > 0)
    .sort((a, b) => direction * compare(a, b))
  const served = ordered.slice(0, query.limit)
  const last = served.at(-1)
  return {
    items: served,
    nextToken: ordered.length > query.limit && last !== undefined ? encodeToken(last) : undefined,
    total: matching.length,
  }
}
