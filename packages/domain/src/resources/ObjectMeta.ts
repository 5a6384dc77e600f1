import { Schema } from "effect"
import { replaceWith } from "../crd/KubeExtensions.ts"
import { NonNegativeInt } from "./Names.ts"

const optional = <S extends Schema.Schema.All>(schema: S) => Schema.optionalWith(schema, { exact: true })

export const OwnerReference = Schema.Struct({
  apiVersion: Schema.String,
  kind: Schema.String,
  name: Schema.String,
  uid: Schema.String,
  controller: optional(Schema.Boolean),
  blockOwnerDeletion: optional(Schema.Boolean),
})
export type OwnerReference = typeof OwnerReference.Type

/**
 * The parts of metav1.ObjectMeta the operator reads. The API server owns metadata's validation,
 * so the CRD declares it as a plain object (the only shape a CRD may give it).
 */
export const ObjectMeta = Schema.Struct({
  name: Schema.String,
  namespace: optional(Schema.String),
  uid: optional(Schema.String),
  resourceVersion: optional(Schema.String),
  generation: optional(NonNegativeInt),
  creationTimestamp: optional(Schema.String),
  deletionTimestamp: optional(Schema.String),
  labels: optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  annotations: optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  finalizers: optional(Schema.Array(Schema.String)),
  ownerReferences: optional(Schema.Array(OwnerReference)),
}).pipe(
  replaceWith({ type: "object" }),
  Schema.annotations({
    description:
      "Standard object metadata: name, namespace, labels, annotations. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
  }),
)
export type ObjectMeta = typeof ObjectMeta.Type

/** `apiVersion` and `kind`: a fixed value in TypeScript, a plain string in the CRD (the API server checks them). */
export const typeMetaField = <const V extends string>(value: V, description: string) =>
  Schema.Literal(value).pipe(replaceWith({ type: "string" }), Schema.annotations({ description }))

export const apiVersionDescription =
  "APIVersion defines the versioned schema of this representation of an object. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources"
export const kindDescription =
  "Kind is a string value representing the REST resource this object represents. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"
