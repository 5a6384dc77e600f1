import { Effect } from "effect"
import { bundleOperator as bundle } from "../../packages/server/scripts/bundle.ts"

/**
 * The operator bundled the way `npm run build` ships it (dist/operator.mjs), to compare with running
 * the .ts sources. Started with `node <file>`, it re-executes node with its own settings
 * (packages/server/scripts/NodeSettings.ts); extra node flags given to it come after those and win.
 */
export const bundleOperator = (outFile: string): Effect.Effect<string, unknown> =>
  Effect.tryPromise(() => bundle(outFile))
