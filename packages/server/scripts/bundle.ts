// `npm run build`: the operator entry point as one ESM file (dist/operator.mjs), the
// cross-cluster extproc's (dist/extproc.mjs) and the node agent's (dist/node-agent.mjs), what the
// container images ship; run it as `node dist/operator.mjs`. It applies the node settings of NodeSettings.ts
// itself, whoever starts it. Loading ~1,000 .ts modules through type stripping costs ≈ 200 MiB of
// RSS more than the bundle (docs/benchmarks.md, "Operator memory").
import { readFile } from "node:fs/promises"
import { dirname, join } from "node:path"
import { pathToFileURL } from "node:url"
import * as esbuild from "esbuild"
import { relaunchBanner } from "./NodeSettings.ts"

const repoRoot = join(import.meta.dirname, "../../..")

export interface BundleOptions {
  /**
   * Replace import.meta.url / dirname / filename in this repository's sources by where each file
   * lies, for a bundle that runs inside the checkout and finds files next to its sources (the demo:
   * CRDs, the control plane's build script). A shipped bundle leaves them alone.
   */
  readonly pinSourcePaths?: boolean | undefined
}

const isWorkspaceSource = (path: string) =>
  path.startsWith(join(repoRoot, "packages")) && !path.includes("/node_modules/")

/**
 * This repository's .ts files as esbuild reads them, with two rewrites: a module-relative require
 * (`createRequire(import.meta.url)("ws")`) becomes a plain require, which esbuild bundles (so the
 * artifact needs no node_modules beside it); and optionally the pinned paths above.
 */
const workspaceSources = (options: BundleOptions): esbuild.Plugin => ({
  name: "workspace-sources",
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (!isWorkspaceSource(args.path)) return undefined
      let contents = (await readFile(args.path, "utf8")).replaceAll(
        "createRequire(import.meta.url)(",
        "require(",
      )
      if (options.pinSourcePaths === true) {
        contents = contents
          .replaceAll("import.meta.url", JSON.stringify(pathToFileURL(args.path).href))
          .replaceAll("import.meta.dirname", JSON.stringify(dirname(args.path)))
          .replaceAll("import.meta.filename", JSON.stringify(args.path))
      }
      return { contents, loader: "ts" }
    })
  },
})

/** Bundles `entry` (a path in this repository) into `outFile`, which applies NodeSettings when run. */
export const bundle = async (
  entry: string,
  outFile: string,
  options: BundleOptions = {},
): Promise<string> => {
  await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node24",
    outfile: outFile,
    logLevel: "warning",
    plugins: [workspaceSources(options)],
    // Node keeps the whole source of a module in memory. Without comments and indentation the
    // source is 5.7 MB instead of 8.3, and ASCII only (license comments go to <outFile>.LEGAL.txt),
    // so V8 stores it with one byte per character instead of two: ≈ 10 MiB of RSS. Names stay
    // as written, so stack traces still read.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: "external",
    banner: {
      js: [
        // CommonJS dependencies inside an ESM bundle need a require.
        "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
        relaunchBanner(),
      ].join("\n"),
    },
  })
  return outFile
}

/** The operator (packages/server/src/main.ts), as dist/operator.mjs ships it. */
export const bundleOperator = (outFile: string): Promise<string> =>
  bundle(join(repoRoot, "packages/server/src/main.ts"), outFile)

/** The cross-cluster extproc (packages/extproc/src/main.ts), as dist/extproc.mjs ships it (same image). */
export const bundleExtproc = (outFile: string): Promise<string> =>
  bundle(join(repoRoot, "packages/extproc/src/main.ts"), outFile)

/** The node agent (packages/node-agent/src/main.ts), as dist/node-agent.mjs ships it (its own image). */
export const bundleNodeAgent = (outFile: string): Promise<string> =>
  bundle(join(repoRoot, "packages/node-agent/src/main.ts"), outFile)

if (import.meta.main) {
  for (const out of [
    await bundleOperator(join(repoRoot, "dist/operator.mjs")),
    await bundleExtproc(join(repoRoot, "dist/extproc.mjs")),
    await bundleNodeAgent(join(repoRoot, "dist/node-agent.mjs")),
  ]) {
    console.log(`build: wrote ${out}; run it with: node ${out}`)
  }
}
