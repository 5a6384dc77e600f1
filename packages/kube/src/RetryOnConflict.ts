import { Effect } from "effect"
import { hasReason } from "./KubeError.ts"

export interface Options<T> {
  /**
   * How many writes at most, the first included (default 5). The last Conflict is the failure once
   * they are spent: something else keeps writing the object, and the caller should hear of it.
   */
  readonly maxAttempts?: number
  /**
   * A version already at hand (from a watch or cache): the first attempt decides on it instead of
   * reading. A stale one costs one Conflict, then a fresh read.
   */
  readonly seen?: T
}

/**
 * Read → decide → conditional write, again from a fresh read whenever the write fails with 409
 * Conflict (another writer got in between: the version `write` was conditional on is gone). `write`
 * decides on the object it is given (it may also end without writing) and makes its write carry
 * that object's resourceVersion: a PUT of the object, a patch with it, or a delete precondition.
 * Every other failure, of `read` or of `write`, ends the loop at once.
 *
 * client-go's retry.RetryOnConflict, with the read separated out so that a cached version can
 * spare the first read.
 */
export const retryOnConflict = <T, A, E1, R1, E2, R2>(
  read: Effect.Effect<T, E1, R1>,
  write: (current: T) => Effect.Effect<A, E2, R2>,
  options: Options<T> = {},
): Effect.Effect<A, E1 | E2, R1 | R2> => {
  const maxAttempts = Math.max(1, options.maxAttempts ?? 5)
  const isConflict = hasReason("Conflict")
  const from = (current: T, attempt: number): Effect.Effect<A, E1 | E2, R1 | R2> =>
    write(current).pipe(
      Effect.catchIf(
        (error) => isConflict(error) && attempt < maxAttempts,
        () => Effect.flatMap(read, (fresh) => from(fresh, attempt + 1)),
      ),
    )
  return "seen" in options ? from(options.seen as T, 1) : Effect.flatMap(read, (current) => from(current, 1))
}
