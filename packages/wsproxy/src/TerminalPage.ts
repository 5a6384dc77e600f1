/**
 * The terminal page and what it loads: our own HTML and script (packages/wsproxy/page), xterm.js
 * and its fit addon straight from their npm packages. Read once, at start.
 */
import { readFile } from "node:fs/promises"
import { createRequire } from "node:module"
import { Effect } from "effect"

export interface Asset {
  readonly contentType: string
  readonly body: Buffer
}

const resolve = createRequire(import.meta.url).resolve
const page = (name: string) => new URL(`../page/${name}`, import.meta.url).pathname

const files: ReadonlyArray<readonly [path: string, file: () => string, contentType: string]> = [
  ["/", () => page("index.html"), "text/html; charset=utf-8"],
  ["/terminal.js", () => page("terminal.js"), "text/javascript; charset=utf-8"],
  ["/assets/xterm.js", () => resolve("@xterm/xterm/lib/xterm.js"), "text/javascript; charset=utf-8"],
  ["/assets/xterm.css", () => resolve("@xterm/xterm/css/xterm.css"), "text/css; charset=utf-8"],
  [
    "/assets/addon-fit.js",
    () => resolve("@xterm/addon-fit/lib/addon-fit.js"),
    "text/javascript; charset=utf-8",
  ],
]

/** Path -> asset, for every file the page needs. */
export const load: Effect.Effect<ReadonlyMap<string, Asset>, Error> = Effect.tryPromise({
  try: async () =>
    new Map(
      await Promise.all(
        files.map(
          async ([path, file, contentType]) => [path, { contentType, body: await readFile(file()) }] as const,
        ),
      ),
    ),
  catch: (cause) => new Error(`cannot read the terminal page's files: ${String(cause)}`),
})
