import { Effect } from "effect"

/** What one request came back with; `status` 0 when the connection failed (e.g. the server died). */
export interface Outcome {
  readonly status: number
  readonly retryAfter: string | null
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON came back
  readonly body: any
  readonly error?: string
}

/**
 * One JSON request that never fails: a refused or reset connection is an outcome too, and so is
 * giving up (`abortAfterMillis`: the caller hangs up, as a client with a short timeout does).
 */
export const attempt = (
  url: string,
  init: {
    readonly method?: string
    readonly key?: string
    readonly body?: unknown
    readonly abortAfterMillis?: number
  } = {},
): Effect.Effect<Outcome> =>
  Effect.promise(async () => {
    const headers: Record<string, string> = {}
    if (init.key !== undefined) headers["x-api-key"] = init.key
    if (init.body !== undefined) headers["content-type"] = "application/json"
    try {
      const response = await fetch(url, {
        method: init.method ?? "GET",
        headers,
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
        ...(init.abortAfterMillis === undefined
          ? {}
          : { signal: AbortSignal.timeout(init.abortAfterMillis) }),
      })
      const text = await response.text()
      let body: unknown = text
      try {
        body = text === "" ? undefined : JSON.parse(text)
      } catch {}
      return { status: response.status, retryAfter: response.headers.get("retry-after"), body }
    } catch (error) {
      return { status: 0, retryAfter: null, body: undefined, error: String(error) }
    }
  })

/** Counts of outcomes by status, for assertion messages. */
export const tally = (outcomes: ReadonlyArray<Outcome>): Record<number, number> => {
  const counts: Record<number, number> = {}
  for (const o of outcomes) counts[o.status] = (counts[o.status] ?? 0) + 1
  return counts
}
