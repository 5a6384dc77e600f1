import { SchemaAST as AST, Either, Option, ParseResult, Schema } from "effect"
import { getKubeExtensions } from "./KubeExtensions.ts"

/** A CEL rule with the only fields Kubernetes 1.26 accepts. */
export interface ValidationRule {
  readonly rule: string
  readonly message: string
}

export type StructuralType = "object" | "array" | "string" | "integer" | "number" | "boolean"

/**
 * A Kubernetes structural schema node (apiextensions.k8s.io/v1 JSONSchemaProps, the subset a
 * structural schema may use): every node typed or marked int-or-string / preserve-unknown, no
 * $ref, anyOf only in the int-or-string form.
 */
export interface Structural {
  readonly description?: string
  readonly type?: StructuralType
  readonly format?: string
  readonly enum?: ReadonlyArray<string | number | boolean>
  readonly default?: unknown
  readonly minimum?: number
  readonly exclusiveMinimum?: boolean
  readonly maximum?: number
  readonly exclusiveMaximum?: boolean
  readonly multipleOf?: number
  readonly minLength?: number
  readonly maxLength?: number
  readonly pattern?: string
  readonly minItems?: number
  readonly maxItems?: number
  readonly minProperties?: number
  readonly maxProperties?: number
  readonly anyOf?: ReadonlyArray<Structural>
  readonly properties?: { readonly [name: string]: Structural }
  readonly required?: ReadonlyArray<string>
  readonly additionalProperties?: Structural
  readonly items?: Structural
  readonly "x-kubernetes-int-or-string"?: true
  readonly "x-kubernetes-preserve-unknown-fields"?: true
  readonly "x-kubernetes-embedded-resource"?: boolean
  readonly "x-kubernetes-list-type"?: "atomic" | "set" | "map"
  readonly "x-kubernetes-list-map-keys"?: ReadonlyArray<string>
  readonly "x-kubernetes-map-type"?: "atomic" | "granular"
  readonly "x-kubernetes-validations"?: ReadonlyArray<ValidationRule>
}

/** A Schema the generator cannot express as a structural schema, and where in it. */
export class UnsupportedSchema extends Schema.TaggedError<UnsupportedSchema>()("UnsupportedSchema", {
  path: Schema.Array(Schema.String),
  message: Schema.String,
}) {}

/**
 * The structural schema of what a Schema accepts on the wire (its encoded side): properties and
 * `required` from Structs, defaults from `optionalWith(..., { default })`, bounds and patterns
 * from filters' JSON Schema annotations, descriptions from description annotations, and
 * whatever KubeExtensions adds (CEL rules, list types, replacements).
 */
export const fromSchema = <A, I, R>(
  schema: Schema.Schema<A, I, R>,
): Either.Either<Structural, UnsupportedSchema> => fromAST(schema.ast)

export const fromAST = (ast: AST.AST): Either.Either<Structural, UnsupportedSchema> => {
  try {
    return Either.right(canonical(go(ast, [], new Set())))
  } catch (error) {
    if (error instanceof UnsupportedSchema) return Either.left(error)
    throw error
  }
}

type Path = ReadonlyArray<string>

const unsupported = (path: Path, message: string): UnsupportedSchema =>
  new UnsupportedSchema({ path: [...path], message })

const ownDescription = (annotated: AST.Annotated): string | undefined =>
  Option.getOrUndefined(AST.getDescriptionAnnotation(annotated))

// Effect's keywords describe themselves ("a string"); that says nothing in `kubectl explain`.
const keywordDescriptions = new Set(
  [
    AST.stringKeyword,
    AST.numberKeyword,
    AST.booleanKeyword,
    AST.unknownKeyword,
    AST.anyKeyword,
    AST.objectKeyword,
  ].map(ownDescription),
)

const schemaDescription = (ast: AST.AST): string | undefined => {
  const description = ownDescription(ast)
  return ast._tag.endsWith("Keyword") && keywordDescriptions.has(description) ? undefined : description
}

const go = (ast: AST.AST, path: Path, visiting: ReadonlySet<AST.AST>): Structural => {
  const extensions = Option.getOrUndefined(getKubeExtensions(ast))
  const description = schemaDescription(ast)
  let node = extensions?.replace ?? derive(ast, path, visiting, extensions !== undefined)
  if (extensions?.extend !== undefined && extensions.replace === undefined)
    node = merge(node, extensions.extend)
  // The outermost description wins: the one written where the Schema is used.
  return description === undefined ? node : { ...node, description }
}

const merge = (node: Structural, extension: Structural): Structural => {
  const validations = [
    ...(node["x-kubernetes-validations"] ?? []),
    ...(extension["x-kubernetes-validations"] ?? []),
  ]
  return {
    ...node,
    ...extension,
    ...(validations.length > 0 ? { "x-kubernetes-validations": validations } : {}),
  }
}

const derive = (ast: AST.AST, path: Path, visiting: ReadonlySet<AST.AST>, extended: boolean): Structural => {
  switch (ast._tag) {
    case "StringKeyword":
      return { type: "string" }
    case "NumberKeyword":
      return { type: "number" }
    case "BooleanKeyword":
      return { type: "boolean" }
    case "UnknownKeyword":
    case "AnyKeyword":
      return { "x-kubernetes-preserve-unknown-fields": true }
    case "ObjectKeyword":
      return { type: "object", "x-kubernetes-preserve-unknown-fields": true }
    case "Literal":
      return literals([ast.literal], path)
    case "Enums":
      return literals(
        ast.enums.map(([, value]) => value),
        path,
      )
    case "TemplateLiteral":
      return { type: "string", pattern: AST.getTemplateLiteralRegExp(ast).source }
    case "Refinement": {
      const jsonSchema = Option.getOrUndefined(AST.getJSONSchemaAnnotation(ast))
      if (jsonSchema === undefined && !extended) {
        throw unsupported(
          path,
          "a filter with no JSON Schema or CEL equivalent: give it a jsonSchema annotation or use KubeExtensions.celRule",
        )
      }
      const base = go(ast.from, path, visiting)
      return jsonSchema === undefined
        ? base
        : applyJsonSchema(base, jsonSchema as Record<string, unknown>, path)
    }
    case "Transformation":
      if (ast.transformation._tag === "TypeLiteralTransformation" && AST.isTypeLiteral(ast.from)) {
        return object(ast.from, path, visiting, {
          transformation: ast.transformation,
          to: AST.isTypeLiteral(ast.to) ? ast.to : undefined,
        })
      }
      return go(ast.from, path, visiting)
    case "TypeLiteral":
      return object(ast, path, visiting, {})
    case "TupleType":
      return array(ast, path, visiting)
    case "Union":
      return union(ast, path, visiting)
    case "Suspend": {
      if (visiting.has(ast)) throw unsupported(path, "a recursive Schema: structural schemas cannot recurse")
      return go(ast.f(), path, new Set([...visiting, ast]))
    }
    default:
      throw unsupported(path, `${ast._tag} has no structural schema; use KubeExtensions.replaceWith`)
  }
}

const literals = (values: ReadonlyArray<AST.LiteralValue>, path: Path): Structural => {
  const kinds = new Set(values.map((value) => typeof value))
  const [kind] = kinds
  if (kinds.size !== 1 || (kind !== "string" && kind !== "number" && kind !== "boolean")) {
    throw unsupported(path, "literals must all be strings, all numbers or all booleans")
  }
  const type: StructuralType =
    kind === "number" ? (values.every((value) => Number.isInteger(value)) ? "integer" : "number") : kind
  return { type, enum: values as ReadonlyArray<string | number | boolean> }
}

const copiedJsonSchemaKeys = new Set([
  "minimum",
  "maximum",
  "multipleOf",
  "minLength",
  "maxLength",
  "pattern",
  "minItems",
  "maxItems",
  "minProperties",
  "maxProperties",
  "format",
])

/** Value validations of a filter; draft-2019 exclusive bounds become OpenAPI 3.0 booleans. */
const applyJsonSchema = (base: Structural, jsonSchema: Record<string, unknown>, path: Path): Structural => {
  let node: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(jsonSchema)) {
    if (key === "type") {
      if (value === "integer" && (base.type === "number" || base.type === "integer")) node.type = "integer"
      else if (value !== base.type)
        throw unsupported(path, `a filter retypes ${base.type} as ${String(value)}`)
    } else if (key === "exclusiveMinimum" && typeof value === "number") {
      node = { ...node, minimum: value, exclusiveMinimum: true }
    } else if (key === "exclusiveMaximum" && typeof value === "number") {
      node = { ...node, maximum: value, exclusiveMaximum: true }
    } else if (copiedJsonSchemaKeys.has(key)) {
      node[key] = value
    } else {
      throw unsupported(path, `JSON Schema keyword "${key}" has no structural equivalent`)
    }
  }
  return node as Structural
}

interface ObjectContext {
  readonly transformation?: AST.TypeLiteralTransformation
  readonly to?: AST.TypeLiteral | undefined
}

const object = (
  ast: AST.TypeLiteral,
  path: Path,
  visiting: ReadonlySet<AST.AST>,
  context: ObjectContext,
): Structural => {
  const properties: Record<string, Structural> = {}
  const required: Array<string> = []
  for (const signature of ast.propertySignatures) {
    const name = signature.name
    if (typeof name !== "string") throw unsupported(path, "only string property names exist in JSON")
    const at = [...path, name]
    let property = go(signature.type, at, visiting)
    const decodedSide = context.to?.propertySignatures.find((candidate) => candidate.name === name)
    const description =
      ownDescription(signature) ?? (decodedSide === undefined ? undefined : ownDescription(decodedSide))
    if (description !== undefined) property = { ...property, description }
    const defaultValue = defaultOf(signature, context.transformation, at)
    if (defaultValue !== undefined) property = { ...property, default: defaultValue }
    properties[name] = property
    if (!signature.isOptional) required.push(name)
  }
  const node: Structural = {
    type: "object",
    ...(ast.propertySignatures.length > 0 ? { properties } : {}),
    ...(required.length > 0 ? { required } : {}),
  }
  if (ast.indexSignatures.length === 0) return node
  const [index, ...more] = ast.indexSignatures
  if (more.length > 0 || index === undefined || !AST.isStringKeyword(index.parameter)) {
    throw unsupported(path, "only one index signature, keyed by string, has a structural equivalent")
  }
  if (AST.isUnknownKeyword(index.type) || AST.isAnyKeyword(index.type)) {
    return { ...node, "x-kubernetes-preserve-unknown-fields": true }
  }
  if (ast.propertySignatures.length > 0) {
    throw unsupported(path, "a Struct with properties may only add an index signature of unknown values")
  }
  return { ...node, additionalProperties: go(index.type, [...path, "*"], visiting) }
}

/**
 * The wire form of an `optionalWith(..., { default })` default: what decoding a missing key
 * yields, encoded again. Object defaults are written out whole, not as `{}`: the API server
 * checks a default against the node's CEL rules before nested defaults apply.
 */
const defaultOf = (
  signature: AST.PropertySignature,
  transformation: AST.TypeLiteralTransformation | undefined,
  path: Path,
): unknown => {
  const step = transformation?.propertySignatureTransformations.find((t) => t.from === signature.name)
  if (step === undefined) return undefined
  const decoded = step.decode(Option.none())
  if (Option.isNone(decoded)) return undefined
  return Either.getOrElse(ParseResult.encodeEither(Schema.make(signature.type))(decoded.value), () => {
    throw unsupported(path, "the default does not encode with its own Schema")
  })
}

const jsonEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const aKeys = Object.keys(a)
  const bKeys = Object.keys(b)
  return (
    aKeys.length === bKeys.length &&
    aKeys.every((key) => jsonEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
  )
}

const array = (ast: AST.TupleType, path: Path, visiting: ReadonlySet<AST.AST>): Structural => {
  const [rest, ...more] = ast.rest
  if (rest === undefined || more.length > 0) {
    throw unsupported(path, "tuples have no structural equivalent; use Schema.Array")
  }
  const items = go(rest.type, [...path, "[]"], visiting)
  // Schema.NonEmptyArray(x) is the tuple [x, ...x[]]: an array of at least one x.
  for (const element of ast.elements) {
    if (element.isOptional || !jsonEqual(go(element.type, [...path, "[]"], visiting), items)) {
      throw unsupported(path, "tuples have no structural equivalent; use Schema.Array")
    }
  }
  return { type: "array", ...(ast.elements.length > 0 ? { minItems: ast.elements.length } : {}), items }
}

const union = (ast: AST.Union, path: Path, visiting: ReadonlySet<AST.AST>): Structural => {
  const literalMembers = ast.types.filter(AST.isLiteral)
  if (literalMembers.length === ast.types.length) {
    return literals(
      literalMembers.map((member) => member.literal),
      path,
    )
  }
  const members = ast.types.map((member) => go(member, path, visiting))
  const integer = members.find((member) => member.type === "integer")
  const string = members.find((member) => member.type === "string")
  if (members.length === 2 && integer !== undefined && string !== undefined) {
    return intOrString(integer, string, path)
  }
  throw unsupported(
    path,
    "only unions of literals or of an integer and a string are structural; model alternatives as optional fields with a celRule",
  )
}

const numericKeys = ["minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "multipleOf"] as const
const stringKeys = ["minLength", "maxLength", "pattern"] as const

/**
 * An IntOrString (e.g. maxUnavailable: 1 or "25%"). Value validations sit beside the anyOf:
 * numeric ones only apply to numbers and string ones only to strings, so both can hold.
 */
const intOrString = (integer: Structural, string: Structural, path: Path): Structural => {
  const pick = (node: Structural, keys: ReadonlyArray<keyof Structural>): Record<string, unknown> => {
    const allowed = new Set<string>([...keys, "type", "description"])
    const extra = Object.keys(node).filter((key) => !allowed.has(key))
    if (extra.length > 0) throw unsupported(path, `int-or-string members cannot carry ${extra.join(", ")}`)
    return Object.fromEntries(keys.filter((key) => node[key] !== undefined).map((key) => [key, node[key]]))
  }
  return {
    "x-kubernetes-int-or-string": true,
    anyOf: [{ type: "integer" }, { type: "string" }],
    ...pick(integer, numericKeys),
    ...pick(string, stringKeys),
  }
}

const keyOrder: ReadonlyArray<keyof Structural> = [
  "description",
  "type",
  "format",
  "enum",
  "default",
  "minimum",
  "exclusiveMinimum",
  "maximum",
  "exclusiveMaximum",
  "multipleOf",
  "minLength",
  "maxLength",
  "pattern",
  "minItems",
  "maxItems",
  "minProperties",
  "maxProperties",
  "x-kubernetes-int-or-string",
  "anyOf",
  "x-kubernetes-embedded-resource",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-list-type",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-map-type",
  "items",
  "additionalProperties",
  "properties",
  "required",
  "x-kubernetes-validations",
]

/** The same node with keys in a fixed, readable order, so the generated YAML is stable. */
const canonical = (node: Structural): Structural => {
  const out: Record<string, unknown> = {}
  for (const key of keyOrder) {
    const value = node[key]
    if (value === undefined) continue
    if (key === "properties") {
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, Structural>).map(([name, child]) => [name, canonical(child)]),
      )
    } else if (key === "items" || key === "additionalProperties") {
      out[key] = canonical(value as Structural)
    } else if (key === "anyOf") {
      out[key] = (value as ReadonlyArray<Structural>).map(canonical)
    } else {
      out[key] = value
    }
  }
  const unknownKeys = Object.keys(node).filter((key) => !keyOrder.includes(key as keyof Structural))
  if (unknownKeys.length > 0) throw unsupported([], `unknown structural keywords: ${unknownKeys.join(", ")}`)
  return out as Structural
}
