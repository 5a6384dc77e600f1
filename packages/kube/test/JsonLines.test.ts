import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Either, Exit, Stream } from "effect"
import * as HttpTransport from "../src/HttpTransport.ts"
import { KubeError } from "../src/KubeError.ts"

const bytes = (...parts: ReadonlyArray<string>): AsyncIterable<Uint8Array> => ({
  async *[Symbol.asyncIterator]() {
    for (const part of parts) yield new TextEncoder().encode(part)
  },
})

const refused = (line: unknown) =>
  new KubeError({
    reason: "Unknown",
    status: 0,
    message: `refused ${JSON.stringify(line)}`,
    operation: "watch",
  })

/** Numbers pass; anything else is refused, as a watch event of an unknown type is. */
const numbers = (line: unknown): Either.Either<number, KubeError> =>
  typeof line === "number" ? Either.right(line) : Either.left(refused(line))

const lines = (body: AsyncIterable<Uint8Array>) =>
  HttpTransport.jsonLines(
    body,
    () => "watch",
    (effect) => effect,
    numbers,
  )

describe("HttpTransport.jsonLines", () => {
  it.effect("one decoded value per line, whichever way the bytes are split, blank lines skipped", () =>
    Effect.gen(function* () {
      const values = yield* Stream.runCollect(lines(bytes("1\n2", "2\n\n", "3\n4")))
      assert.deepStrictEqual(Chunk.toReadonlyArray(values), [1, 22, 3, 4])
    }),
  )

  it.effect("a refused line ends the stream with its error, after every value before it", () =>
    Effect.gen(function* () {
      const seen: Array<number> = []
      const exit = yield* Effect.exit(
        Stream.runForEach(lines(bytes("1\n2\n", '"x"\n3\n')), (value) => Effect.sync(() => seen.push(value))),
      )
      assert.deepStrictEqual(seen, [1, 2])
      assert.deepStrictEqual(exit, Exit.fail(refused("x")))
    }),
  )

  it.effect("a refused line in the middle of a chunk still lets the values before it out first", () =>
    Effect.gen(function* () {
      const seen: Array<number> = []
      const exit = yield* Effect.exit(
        Stream.runForEach(lines(bytes('1\n2\n"y"\n3\n')), (value) => Effect.sync(() => seen.push(value))),
      )
      assert.deepStrictEqual(seen, [1, 2])
      assert.deepStrictEqual(exit, Exit.fail(refused("y")))
    }),
  )
})
