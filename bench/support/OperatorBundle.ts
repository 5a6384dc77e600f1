import { Effect } from "effect"
import { bundleOperator as bundle } from "../../packages/server/scripts/bundle.ts"

/** The operator bundled the way `npm run build` ships it, to compare with running the .ts sources. */
export const bundleOperator = (outFile: string): Effect.Effect<string, unknown> =>
  Effect.tryPromise(() => bundle(outFile))
