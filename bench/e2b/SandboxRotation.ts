import { Effect, Queue } from "effect"

/**
 * Hands each operation a member of `items` that no other in-flight operation holds, so c closed-loop
 * workers over c sandboxes keep exactly one operation per sandbox at a time.
 */
export const exclusive = <T>(
  items: ReadonlyArray<T>,
): Effect.Effect<<A, E, R>(use: (item: T) => Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>> =>
  Effect.gen(function* () {
    const free = yield* Queue.unbounded<T>()
    yield* Queue.offerAll(free, items)
    return (use) => Effect.acquireUseRelease(Queue.take(free), use, (item) => Queue.offer(free, item))
  })
