/**
 * The API-server fallback for a sandbox the watch cache does not have yet, bounded so that random
 * ids cannot turn into a stream of API requests: one lookup in flight per id (concurrent callers
 * for the same id share its answer) and a token bucket over all ids. Without a token the answer is
 * "not found" at once, as it was before the fallback existed; a failed lookup is logged and is
 * "not found" too.
 */
import { Deferred, Effect, FiberId } from "effect"
import * as TokenBucket from "./TokenBucket.ts"

export type Lookup<A> = (id: string) => Effect.Effect<A | undefined>

export const make = <A, E>(
  limits: TokenBucket.Limits,
  fetch: (id: string) => Effect.Effect<A | undefined, E>,
  describe: (error: E) => string,
): Effect.Effect<Lookup<A>> =>
  Effect.map(Effect.clock, (clock) => {
    let bucket = TokenBucket.full(limits, clock.unsafeCurrentTimeMillis())
    const inFlight = new Map<string, Deferred.Deferred<A | undefined>>()
    return (id) =>
      Effect.suspend(() => {
        const pending = inFlight.get(id)
        if (pending !== undefined) return Deferred.await(pending)
        const next = TokenBucket.take(bucket, limits, clock.unsafeCurrentTimeMillis())
        bucket = next.bucket
        if (!next.taken) return Effect.succeed(undefined)
        const answer = Deferred.unsafeMake<A | undefined>(FiberId.none)
        inFlight.set(id, answer)
        return fetch(id).pipe(
          Effect.catchAll((error) =>
            Effect.as(Effect.logWarning(`extproc: looking up sandbox ${id}: ${describe(error)}`), undefined),
          ),
          Effect.onExit((exit) =>
            Effect.zipRight(
              Effect.sync(() => inFlight.delete(id)),
              Deferred.done(answer, exit),
            ),
          ),
        )
      })
  })
