// `npm run build` (with the operator's): wsproxy as one ESM file (dist/wsproxy.mjs) and the files of
// its page in dist/wsproxy-page/, what the image ships; run it as
// `AGENT_SANDBOX_WSPROXY_PAGE_DIR=dist/wsproxy-page node dist/wsproxy.mjs`.
import { copyFile, mkdir, readFile } from "node:fs/promises"
import { join } from "node:path"
import * as esbuild from "esbuild"
import * as TerminalPage from "../src/TerminalPage.ts"

const repoRoot = join(import.meta.dirname, "../../..")

// A module-relative require (kube's `createRequire(import.meta.url)("ws")`) becomes a plain one,
// which esbuild bundles: the artifact needs no node_modules beside it.
const workspaceSources: esbuild.Plugin = {
  name: "workspace-sources",
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (!args.path.startsWith(join(repoRoot, "packages")) || args.path.includes("/node_modules/")) {
        return undefined
      }
      const contents = (await readFile(args.path, "utf8")).replaceAll(
        "createRequire(import.meta.url)(",
        "require(",
      )
      return { contents, loader: "ts" }
    })
  },
}

export const bundleWsproxy = async (outDir: string): Promise<string> => {
  const outFile = join(outDir, "wsproxy.mjs")
  await esbuild.build({
    entryPoints: [join(repoRoot, "packages/wsproxy/src/main.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node24",
    outfile: outFile,
    logLevel: "warning",
    plugins: [workspaceSources],
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: "external",
    banner: {
      // CommonJS dependencies inside an ESM bundle need a require.
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
  })
  const pageDir = join(outDir, "wsproxy-page")
  await mkdir(pageDir, { recursive: true })
  for (const [name, source] of Object.entries(TerminalPage.files()))
    await copyFile(source, join(pageDir, name))
  return outFile
}

if (import.meta.main) {
  const out = await bundleWsproxy(join(repoRoot, "dist"))
  console.log(
    `build: wrote ${out}; run it with: AGENT_SANDBOX_WSPROXY_PAGE_DIR=dist/wsproxy-page node ${out}`,
  )
}
