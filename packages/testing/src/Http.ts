import { Effect } from "effect"

export interface JsonResponse {
  readonly status: number
  readonly headers: Headers
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON came back
  readonly body: any
}

/** One HTTP call as an API user makes it; the body parsed as JSON when there is one. */
export const call = (
  url: string,
  init: {
    readonly method?: string
    readonly key?: string
    readonly body?: unknown
    readonly rawBody?: string
  } = {},
): Effect.Effect<JsonResponse> =>
  Effect.promise(async () => {
    const headers: Record<string, string> = {}
    if (init.key !== undefined) headers["x-api-key"] = init.key
    if (init.body !== undefined || init.rawBody !== undefined) headers["content-type"] = "application/json"
    const response = await fetch(url, {
      method: init.method ?? "GET",
      headers,
      ...(init.rawBody !== undefined
        ? { body: init.rawBody }
        : init.body !== undefined
          ? { body: JSON.stringify(init.body) }
          : {}),
    })
    const text = await response.text()
    let body: unknown = text
    try {
      body = text === "" ? undefined : JSON.parse(text)
    } catch {}
    return { status: response.status, headers: response.headers, body }
  })
