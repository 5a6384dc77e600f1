/**
 * The E2B lists (`GET /v2/sandboxes`, `GET /sandboxes`): filters, and pages ordered by start time
 * (then id) through the shared Pager; the next page's token is the `X-Next-Token` header.
 */
import { Order, Schema } from "effect"
import * as Pager from "../listing/Pager.ts"

export interface Listable {
  readonly sandboxId: string
  /** Epoch ms. */
  readonly startedAt: number
  readonly templateId: string
  readonly pool: string
  readonly metadata: Readonly<Record<string, string>>
}

/** Start time (epoch ms), then sandbox id. */
export type Position = readonly [number, string]

export const NextToken = Pager.token(Schema.Tuple(Schema.Number, Schema.String))

const byStart: Order.Order<Position> = Order.tuple(Order.number, Order.string)

export interface ListQuery {
  readonly metadata: Readonly<Record<string, string>>
  /** Every sandbox here runs: a query for other states only lists nothing. */
  readonly includeRunning: boolean
  readonly template: string | undefined
  /** Epoch ms. */
  readonly startedAfter: number | undefined
  readonly order: "asc" | "desc"
  readonly limit: number
  /** Decoded from `nextToken`. */
  readonly after: Position | undefined
}

export interface ListPage<A> {
  readonly items: ReadonlyArray<A>
  readonly nextToken: string | undefined
  /** Matching sandboxes before paging (the `X-Total-Running` header). */
  readonly total: number
}

export const matches = (item: Listable, query: ListQuery): boolean =>
  query.includeRunning &&
  (query.template === undefined || item.templateId === query.template || item.pool === query.template) &&
  (query.startedAfter === undefined || item.startedAt >= query.startedAfter) &&
  Object.entries(query.metadata).every(([k, v]) => item.metadata[k] === v)

export const page = <A extends Listable>(items: ReadonlyArray<A>, query: ListQuery): ListPage<A> => {
  const paged = Pager.page(
    items.filter((item) => matches(item, query)),
    {
      key: (item): Position => [item.startedAt, item.sandboxId],
      order: query.order === "asc" ? byStart : Order.reverse(byStart),
      limit: query.limit,
      after: query.after,
    },
  )
  return {
    items: paged.items,
    nextToken: paged.next === undefined ? undefined : Schema.encodeSync(NextToken)(paged.next),
    total: paged.total,
  }
}
