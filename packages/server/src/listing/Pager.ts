/**
 * The one pager of both APIs' lists (REST's `cursor`, E2B's `nextToken`): items in a total order,
 * the page after a position, and the position of its last item when more follow. A position is a
 * sort key, not an offset, so paging stays stable while sandboxes come and go.
 */
import { type Order, Schema } from "effect"

export interface Page<A, K> {
  readonly items: ReadonlyArray<A>
  /** Where the next page starts; undefined on the last page. */
  readonly next: K | undefined
  /** How many items there were before paging. */
  readonly total: number
}

export interface PageOptions<A, K> {
  readonly key: (item: A) => K
  readonly order: Order.Order<K>
  readonly limit: number
  /** The position the previous page ended at (exclusive). */
  readonly after: K | undefined
}

export const page = <A, K>(items: ReadonlyArray<A>, options: PageOptions<A, K>): Page<A, K> => {
  const { key, order, limit, after } = options
  const remaining = items
    .filter((item) => after === undefined || order(key(item), after) > 0)
    .sort((a, b) => order(key(a), key(b)))
  const served = remaining.slice(0, limit)
  const last = served.at(-1)
  return {
    items: served,
    next: remaining.length > limit && last !== undefined ? key(last) : undefined,
    total: items.length,
  }
}

/** A position as an opaque token: base64url of its JSON. A token this server did not issue fails to decode. */
export const token = <K, I>(position: Schema.Schema<K, I>): Schema.Schema<K, string> =>
  Schema.compose(Schema.StringFromBase64Url, Schema.parseJson(position))
