import { Effect } from "effect"
import type { KubeError } from "./KubeError.ts"

/**
 * client-go's RetryOnConflict for conditional writes: write against the version last seen; on a
 * 409 read the object again and write again (the write decides anew from what it reads, and may
 * find nothing left to do), at most `attempts` times in all.
 */
export const retryOnConflict = <O, A, E, R, E2, R2>(options: {
  /** The version to write against first (typically the cached one: no read on the common path). */
  readonly seen: O
  readonly write: (current: O) => Effect.Effect<A, E | KubeError, R>
  readonly reread: (stale: O) => Effect.Effect<O, E2, R2>
  readonly attempts?: number | undefined
}): Effect.Effect<A, E | E2 | KubeError, R | R2> =>
  Effect.gen(function* () {
    const attempts = Math.max(1, options.attempts ?? 6)
    let current = options.seen
    for (let attempt = 1; ; attempt++) {
      const result = yield* Effect.either(options.write(current))
      if (result._tag === "Right") return result.right
      if (!isConflict(result.left) || attempt >= attempts) return yield* Effect.fail(result.left)
      current = yield* options.reread(current)
    }
  })

const isConflict = (error: unknown): boolean =>
  typeof error === "object" &&
  error !== null &&
  (error as { readonly _tag?: unknown })._tag === "KubeError" &&
  (error as { readonly reason?: unknown }).reason === "Conflict"
