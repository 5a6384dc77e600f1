/**
 * The two REST calls the page makes, passed to the API unchanged (same origin for the page, so
 * the API needs no CORS): listing the caller's sandboxes and asking for a terminal token. Only
 * the API key travels with them; the API decides everything.
 */
export interface Passage {
  readonly method: "GET" | "POST"
  readonly path: string
}

/** The API call a page request stands for, or undefined when it is none of the two. */
export const route = (method: string, url: string): Passage | undefined => {
  const { pathname, search } = new URL(url, "http://page.invalid")
  if (method === "GET" && pathname === "/api/sandboxes") return { method, path: `/v1/sandboxes${search}` }
  const token = /^\/api\/sandboxes\/([^/]+)\/terminal-token$/.exec(pathname)
  if (method === "POST" && token !== null) return { method, path: `/v1/sandboxes/${token[1]}/terminal-token` }
  return undefined
}
