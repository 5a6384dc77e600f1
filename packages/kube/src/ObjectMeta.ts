import { Schema } from "effect"

/**
 * metav1.ObjectMeta as an Effect Schema, for custom resources declared with one. Decoding
 * preserves fields it does not list (see ResourceType.customResource), and timestamps stay the
 * RFC 3339 strings the server sends.
 */
export const OwnerReference = Schema.Struct({
  apiVersion: Schema.String,
  kind: Schema.String,
  name: Schema.String,
  uid: Schema.String,
  controller: Schema.optional(Schema.Boolean),
  blockOwnerDeletion: Schema.optional(Schema.Boolean),
})

const StringMap = Schema.Record({ key: Schema.String, value: Schema.String })

export const ObjectMeta = Schema.Struct({
  name: Schema.optional(Schema.String),
  generateName: Schema.optional(Schema.String),
  namespace: Schema.optional(Schema.String),
  uid: Schema.optional(Schema.String),
  resourceVersion: Schema.optional(Schema.String),
  generation: Schema.optional(Schema.Number),
  labels: Schema.optional(StringMap),
  annotations: Schema.optional(StringMap),
  ownerReferences: Schema.optional(Schema.Array(OwnerReference)),
  finalizers: Schema.optional(Schema.Array(Schema.String)),
  creationTimestamp: Schema.optional(Schema.String),
  deletionTimestamp: Schema.optional(Schema.String),
})
export type ObjectMeta = typeof ObjectMeta.Type
