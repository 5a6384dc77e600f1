// `npm run build -w @agent-sandbox/client` (also run by `npm pack`): what the package ships.
// - dist/index.js and dist/bin.js: ESM bundles of the client with the (unpublished) domain package
//   inlined; effect and @effect/* stay dependencies, so an app shares one copy of effect with us.
// - dist/types: declarations from tsc, the domain's beside the client's, its imports made relative.
import { execFileSync } from "node:child_process"
import { readdir, readFile, rm, writeFile } from "node:fs/promises"
import { dirname, join, relative } from "node:path"
import * as esbuild from "esbuild"

const root = join(import.meta.dirname, "..")
const dist = join(root, "dist")
const types = join(dist, "types")

await rm(dist, { recursive: true, force: true })

await esbuild.build({
  entryPoints: { index: join(root, "src/index.ts"), bin: join(root, "src/bin.ts") },
  outdir: dist,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  // The domain is part of this package; everything else is a dependency.
  plugins: [
    {
      name: "inline-domain",
      setup(build) {
        build.onResolve({ filter: /^@agent-sandbox\/domain/ }, (args) => ({
          path: join(
            root,
            "../domain/src",
            args.path === "@agent-sandbox/domain" ? "index.ts" : "api/index.ts",
          ),
        }))
      },
    },
  ],
  logLevel: "warning",
})

execFileSync(join(root, "../../node_modules/.bin/tsc"), ["-p", join(root, "tsconfig.build.json")], {
  stdio: "inherit",
})

// The declarations import "@agent-sandbox/domain/api", which is not published: point them at the
// domain's own declarations, emitted beside them.
const domainApi = join(types, "domain/src/api/index.ts")
const walk = async (dir: string): Promise<Array<string>> => {
  const entries = await readdir(dir, { withFileTypes: true })
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? walk(join(dir, e.name)) : Promise.resolve([join(dir, e.name)]))),
  )
  return nested.flat()
}
for (const file of await walk(types)) {
  if (!file.endsWith(".d.ts")) continue
  const text = await readFile(file, "utf8")
  let target = relative(dirname(file), domainApi)
  if (!target.startsWith(".")) target = `./${target}`
  const rewritten = text.replaceAll(/(["'])@agent-sandbox\/domain(\/api)?\1/g, JSON.stringify(target))
  if (rewritten !== text) await writeFile(file, rewritten)
}
