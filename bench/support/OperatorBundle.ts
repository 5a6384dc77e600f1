import { join } from "node:path"
import { Effect } from "effect"

const repoRoot = join(import.meta.dirname, "../..")

/**
 * A diagnostic: the operator entry point bundled into one ESM file with esbuild (present in the
 * workspace as vitest's dependency), to compare with running the .ts sources by type stripping.
 * Dependencies are bundled too; `require` is provided for the CommonJS ones.
 */
export const bundleOperator = (outFile: string): Effect.Effect<string, unknown> =>
  Effect.tryPromise(async () => {
    const esbuild = await import("esbuild")
    await esbuild.build({
      entryPoints: [join(repoRoot, "packages/server/src/main.ts")],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node24",
      outfile: outFile,
      logLevel: "warning",
      banner: {
        js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
      },
    })
    return outFile
  })
