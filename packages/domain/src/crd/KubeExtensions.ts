import { Option, Schema, SchemaAST } from "effect"
import type { Structural, ValidationRule } from "./StructuralSchema.ts"

/**
 * Kubernetes-only facts a Schema carries for the CRD generator (StructuralSchema): what JSON
 * Schema cannot say (CEL rules, list types, embedded resources) or a whole replacement for a node
 * the API server owns (object metadata).
 */
export const KubeExtensionsId: unique symbol = Symbol.for("@agent-sandbox/domain/crd/KubeExtensions")

export interface KubeExtensions {
  /** Merged into the node the generator derives (validations are appended). */
  readonly extend?: Structural
  /** Emitted instead of the derived node (the description still comes from the Schema). */
  readonly replace?: Structural
}

export const getKubeExtensions = SchemaAST.getAnnotation<KubeExtensions>(KubeExtensionsId)

const mergeExtensions = (current: KubeExtensions | undefined, next: KubeExtensions): KubeExtensions => {
  const extend =
    current?.extend === undefined
      ? next.extend
      : next.extend === undefined
        ? current.extend
        : {
            ...current.extend,
            ...next.extend,
            "x-kubernetes-validations": [
              ...(current.extend["x-kubernetes-validations"] ?? []),
              ...(next.extend["x-kubernetes-validations"] ?? []),
            ],
          }
  const replace = next.replace ?? current?.replace
  return { ...(extend === undefined ? {} : { extend }), ...(replace === undefined ? {} : { replace }) }
}

const annotate =
  (extensions: KubeExtensions) =>
  <S extends Schema.Annotable.All>(self: S): Schema.Annotable.Self<S> =>
    self.annotations({
      [KubeExtensionsId]: mergeExtensions(Option.getOrUndefined(getKubeExtensions(self.ast)), extensions),
    }) as Schema.Annotable.Self<S>

/** Adds Kubernetes keywords to the node derived from this Schema. */
export const extend = (structural: Structural) => annotate({ extend: structural })

/** Emits this node instead of deriving one (e.g. `metadata`, which the API server validates). */
export const replaceWith = (structural: Structural) => annotate({ replace: structural })

/**
 * A rule checked in both places: by the API server as a CEL `x-kubernetes-validations` rule, and
 * by Schema decoding through `predicate`, which must say the same thing in TypeScript.
 * Only `rule` and `message` are used: Kubernetes 1.26 knows nothing else.
 */
export const celRule =
  <A>(validation: ValidationRule, predicate: (value: A) => boolean) =>
  <I, R>(self: Schema.Schema<A, I, R>): Schema.filter<Schema.Schema<A, I, R>> =>
    self.pipe(
      Schema.filter((value: A) => predicate(value), {
        message: () => validation.message,
        [KubeExtensionsId]: { extend: { "x-kubernetes-validations": [validation] } } satisfies KubeExtensions,
      }),
    )

/**
 * A list whose items are identified by `keys` (`x-kubernetes-list-type: map`): the API server
 * rejects duplicates and server-side apply merges items by key. Decoding rejects duplicates too.
 */
export const listMap =
  <K extends string>(...keys: readonly [K, ...K[]]) =>
  <A extends { readonly [P in K]: unknown }, I, R>(
    self: Schema.Schema<ReadonlyArray<A>, I, R>,
  ): Schema.filter<Schema.Schema<ReadonlyArray<A>, I, R>> =>
    self.pipe(
      Schema.filter(
        (items: ReadonlyArray<A>) => {
          const seen = new Set<string>()
          for (const item of items) {
            const key = JSON.stringify(keys.map((k) => item[k]))
            if (seen.has(key)) return `duplicate entry for ${keys.join(", ")} ${key}`
            seen.add(key)
          }
          return true
        },
        {
          [KubeExtensionsId]: {
            extend: { "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": [...keys] },
          } satisfies KubeExtensions,
        },
      ),
    )
