// `npm run build`: the operator entry point as one ESM file (dist/operator.mjs), what a container
// image ships. Running ~1,000 .ts modules through type stripping costs about 200 MiB of RSS more
// than the bundle (bench/README.md); run it as `node --max-semi-space-size=16 dist/operator.mjs`.
import { join } from "node:path"
import * as esbuild from "esbuild"

const repoRoot = join(import.meta.dirname, "../../..")

export const bundleOperator = async (outFile: string): Promise<string> => {
  await esbuild.build({
    entryPoints: [join(repoRoot, "packages/server/src/main.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node24",
    outfile: outFile,
    logLevel: "warning",
    // CommonJS dependencies inside an ESM bundle need a require.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
  })
  return outFile
}

if (import.meta.main) {
  const out = await bundleOperator(join(repoRoot, "dist/operator.mjs"))
  console.log(`build: wrote ${out}`)
}
