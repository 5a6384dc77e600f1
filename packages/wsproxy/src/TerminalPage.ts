/**
 * The terminal page and what it loads: our own HTML and script (packages/wsproxy/page), xterm.js
 * and its fit addon from their npm packages. Read once, at start: from where they lie in the
 * checkout, or from one folder holding the five files (what the image ships, see `files`).
 */
import { readFile } from "node:fs/promises"
import { createRequire } from "node:module"
import { join } from "node:path"
import { Effect } from "effect"

export interface Asset {
  readonly contentType: string
  readonly body: Buffer
}

const javascript = "text/javascript; charset=utf-8"

/** URL path, file name in a page folder, content type. */
const served: ReadonlyArray<readonly [path: string, name: string, contentType: string]> = [
  ["/", "index.html", "text/html; charset=utf-8"],
  ["/terminal.js", "terminal.js", javascript],
  ["/assets/xterm.js", "xterm.js", javascript],
  ["/assets/xterm.css", "xterm.css", "text/css; charset=utf-8"],
  ["/assets/addon-fit.js", "addon-fit.js", javascript],
]

/** Where each file of the page lies in the checkout, by its name in a page folder. */
export const files = (): Readonly<Record<string, string>> => {
  const resolve = createRequire(import.meta.url).resolve
  const page = (name: string) => new URL(`../page/${name}`, import.meta.url).pathname
  return {
    "index.html": page("index.html"),
    "terminal.js": page("terminal.js"),
    "xterm.js": resolve("@xterm/xterm/lib/xterm.js"),
    "xterm.css": resolve("@xterm/xterm/css/xterm.css"),
    "addon-fit.js": resolve("@xterm/addon-fit/lib/addon-fit.js"),
  }
}

/** Path -> asset, for every file the page needs; from `folder` when given, else the checkout. */
export const load = (folder: string | undefined): Effect.Effect<ReadonlyMap<string, Asset>, Error> =>
  Effect.tryPromise({
    try: async () => {
      const sources = folder === undefined ? files() : undefined
      return new Map(
        await Promise.all(
          served.map(async ([path, name, contentType]) => {
            const file = sources === undefined ? join(folder ?? "", name) : (sources[name] ?? name)
            return [path, { contentType, body: await readFile(file) }] as const
          }),
        ),
      )
    },
    catch: (cause) => new Error(`cannot read the terminal page's files: ${String(cause)}`),
  })
