import { assert, describe, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { celRule, extend, listMap, replaceWith } from "../src/crd/KubeExtensions.ts"
import * as StructuralSchema from "../src/crd/StructuralSchema.ts"

const structural = <A, I>(schema: Schema.Schema<A, I>): StructuralSchema.Structural =>
  Either.getOrThrowWith(StructuralSchema.fromSchema(schema), (error) => new Error(error.message))

const failure = <A, I>(schema: Schema.Schema<A, I>): StructuralSchema.UnsupportedSchema => {
  const result = StructuralSchema.fromSchema(schema)
  assert.isTrue(Either.isLeft(result), "expected the converter to refuse this Schema")
  return (result as Either.Left<StructuralSchema.UnsupportedSchema, StructuralSchema.Structural>).left
}

describe("StructuralSchema.fromSchema", () => {
  it("types keywords, without Effect's built-in descriptions", () => {
    assert.deepStrictEqual(structural(Schema.String), { type: "string" })
    assert.deepStrictEqual(structural(Schema.Number), { type: "number" })
    assert.deepStrictEqual(structural(Schema.Boolean), { type: "boolean" })
    assert.deepStrictEqual(structural(Schema.Unknown), { "x-kubernetes-preserve-unknown-fields": true })
  })

  it("turns filters into bounds, patterns and integer types", () => {
    assert.deepStrictEqual(
      structural(Schema.Int.pipe(Schema.between(1, 65535)).annotations({ description: "Port" })),
      {
        description: "Port",
        type: "integer",
        minimum: 1,
        maximum: 65535,
      },
    )
    // JSON Schema's numeric exclusiveMinimum becomes OpenAPI 3.0's boolean form.
    assert.deepStrictEqual(structural(Schema.Number.pipe(Schema.positive())), {
      description: "a positive number",
      type: "number",
      minimum: 0,
      exclusiveMinimum: true,
    })
    assert.deepStrictEqual(structural(Schema.String.pipe(Schema.maxLength(5), Schema.pattern(/^a+$/))), {
      description: "a string matching the pattern ^a+$",
      type: "string",
      maxLength: 5,
      pattern: "^a+$",
    })
    assert.deepStrictEqual(structural(Schema.Array(Schema.String).pipe(Schema.maxItems(3))).maxItems, 3)
  })

  it("describes Structs: required keys, property descriptions and defaults", () => {
    const Inner = Schema.Struct({
      size: Schema.optionalWith(Schema.Int, { exact: true, default: () => 3 }),
    })
    const Outer = Schema.Struct({
      name: Schema.String.annotations({ description: "The name" }),
      note: Schema.optionalWith(Schema.String, { exact: true }).annotations({ description: "A note" }),
      mode: Schema.optionalWith(Schema.Literal("a", "b"), { exact: true, default: () => "a" as const }),
      inner: Schema.optionalWith(Inner, { exact: true, default: () => ({ size: 3 }) }),
      fixed: Schema.optionalWith(Inner, { exact: true, default: () => ({ size: 4 }) }),
    }).annotations({ description: "Outer" })
    assert.deepStrictEqual(structural(Outer), {
      description: "Outer",
      type: "object",
      properties: {
        name: { description: "The name", type: "string" },
        note: { description: "A note", type: "string" },
        mode: { type: "string", enum: ["a", "b"], default: "a" },
        // Written out whole: the API server checks defaults against CEL rules before nested defaulting.
        inner: {
          type: "object",
          default: { size: 3 },
          properties: { size: { description: "an integer", type: "integer", default: 3 } },
        },
        fixed: {
          type: "object",
          default: { size: 4 },
          properties: { size: { description: "an integer", type: "integer", default: 3 } },
        },
      },
      required: ["name"],
    })
  })

  it("maps records to additionalProperties and open Structs to preserve-unknown-fields", () => {
    assert.deepStrictEqual(structural(Schema.Record({ key: Schema.String, value: Schema.String })), {
      type: "object",
      additionalProperties: { type: "string" },
    })
    assert.deepStrictEqual(
      structural(
        Schema.Struct({ name: Schema.String }, Schema.Record({ key: Schema.String, value: Schema.Unknown })),
      ),
      {
        type: "object",
        "x-kubernetes-preserve-unknown-fields": true,
        properties: { name: { type: "string" } },
        required: ["name"],
      },
    )
  })

  it("reads NonEmptyArray as minItems 1", () => {
    assert.deepStrictEqual(structural(Schema.NonEmptyArray(Schema.Boolean)), {
      type: "array",
      minItems: 1,
      items: { type: "boolean" },
    })
  })

  it("makes an integer-or-string union an int-or-string node keeping both sides' validations", () => {
    const percent = Schema.Union(
      Schema.Int.pipe(Schema.greaterThanOrEqualTo(0)),
      Schema.String.pipe(Schema.pattern(/^\d+%$/)),
    )
    assert.deepStrictEqual(structural(percent), {
      "x-kubernetes-int-or-string": true,
      anyOf: [{ type: "integer" }, { type: "string" }],
      minimum: 0,
      pattern: "^\\d+%$",
    })
  })

  it("adds CEL rules, list types and replacements from KubeExtensions", () => {
    const Range = Schema.Struct({ low: Schema.Int, high: Schema.Int }).pipe(
      celRule({ rule: "self.low <= self.high", message: "low must not exceed high" }, (r) => r.low <= r.high),
    )
    assert.deepStrictEqual(structural(Range)["x-kubernetes-validations"], [
      { rule: "self.low <= self.high", message: "low must not exceed high" },
    ])
    assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(Range)({ low: 2, high: 1 })))

    const Items = Schema.Array(Schema.Struct({ name: Schema.String })).pipe(listMap("name"))
    const items = structural(Items)
    assert.strictEqual(items["x-kubernetes-list-type"], "map")
    assert.deepStrictEqual(items["x-kubernetes-list-map-keys"], ["name"])
    assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(Items)([{ name: "a" }, { name: "a" }])))

    const Meta = Schema.Struct({ name: Schema.String }).pipe(
      replaceWith({ type: "object" }),
      Schema.annotations({ description: "Metadata" }),
    )
    assert.deepStrictEqual(structural(Meta), { description: "Metadata", type: "object" })

    assert.deepStrictEqual(structural(Schema.String.pipe(extend({ format: "byte" }))), {
      type: "string",
      format: "byte",
    })
  })

  it("refuses what a structural schema cannot say, naming where", () => {
    const date = failure(Schema.Struct({ at: Schema.DateFromSelf }))
    assert.deepStrictEqual(date.path, ["at"])
    assert.match(
      failure(Schema.Union(Schema.Struct({ a: Schema.String }), Schema.Struct({ b: Schema.String }))).message,
      /union/,
    )
    assert.match(failure(Schema.String.pipe(Schema.filter((s) => s.length % 2 === 0))).message, /filter/)
    assert.match(failure(Schema.Tuple(Schema.String, Schema.Number)).message, /tuple/)
    interface Tree {
      readonly children: ReadonlyArray<Tree>
    }
    const Tree: Schema.Schema<Tree> = Schema.Struct({ children: Schema.Array(Schema.suspend(() => Tree)) })
    const recursion = failure(Tree)
    assert.match(recursion.message, /recursive/)
    assert.deepStrictEqual(recursion.path, ["children", "[]", "children", "[]"])
  })
})
