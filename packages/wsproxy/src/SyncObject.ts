/**
 * What travels from a hub to its members, and nothing more (pure). An API key travels as its
 * Secret's digest and policy fields only (the Secret format of packages/server/src/auth/ApiKey.ts):
 * the plaintext key is never stored anywhere, and any other field a key Secret may hold stays
 * behind. Templates and pools travel as their name, labels and spec, never their status.
 */
import { ApiGroup } from "@agent-sandbox/domain"
import type { KubeObject } from "@agent-sandbox/kube"
import { Schema } from "effect"
import type { Secret } from "kubernetes-types/core/v1.js"

/** The label of an API-key Secret (server's ApiKey.apiKeyLabel). */
export const apiKeyLabel = `${ApiGroup.keyPrefix}api-key`
export const tenantLabel = `${ApiGroup.keyPrefix}tenant`

/** The fields of a key Secret that travel: its digest and its policy. */
export const apiKeyFields = [
  "tenant",
  "sha256",
  "admin",
  "pools",
  "maxAllocated",
  "maxWaiting",
  "createsPerSecond",
] as const

const Labels = Schema.Record({ key: Schema.String, value: Schema.String })

export const ApiKeyObject = Schema.TaggedStruct("ApiKey", {
  name: Schema.String,
  /** tenant, sha256 (hex SHA-256 of the key), admin and the policy fields present on the hub. */
  fields: Schema.Struct({
    tenant: Schema.String,
    sha256: Schema.String,
    admin: Schema.optional(Schema.String),
    pools: Schema.optional(Schema.String),
    maxAllocated: Schema.optional(Schema.String),
    maxWaiting: Schema.optional(Schema.String),
    createsPerSecond: Schema.optional(Schema.String),
  }),
})

export const TemplateObject = Schema.TaggedStruct("SandboxTemplate", {
  name: Schema.String,
  labels: Labels,
  spec: Schema.Unknown,
})

export const PoolObject = Schema.TaggedStruct("SandboxPool", {
  namespace: Schema.String,
  name: Schema.String,
  labels: Labels,
  spec: Schema.Unknown,
})

export const SyncedObject = Schema.Union(ApiKeyObject, TemplateObject, PoolObject)
export type SyncedObject = typeof SyncedObject.Type
export type Kind = SyncedObject["_tag"]

/** Names an object across kinds: what a delete carries. */
export const ObjectRef = Schema.Struct({
  kind: Schema.Literal("ApiKey", "SandboxTemplate", "SandboxPool"),
  namespace: Schema.optional(Schema.String),
  name: Schema.String,
})
export type ObjectRef = typeof ObjectRef.Type

export const refOf = (object: SyncedObject): ObjectRef =>
  object._tag === "SandboxPool"
    ? { kind: object._tag, namespace: object.namespace, name: object.name }
    : { kind: object._tag, name: object.name }

/** One key per object, unique across kinds. */
export const keyOf = (ref: ObjectRef): string => `${ref.kind}/${ref.namespace ?? ""}/${ref.name}`

const decode = (value: string | undefined): string | undefined =>
  value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8")

/**
 * A key Secret as it travels; undefined when it is no well-formed key Secret (it grants nothing
 * on the hub either, so it need not travel).
 */
export const fromApiKeySecret = (secret: Secret): SyncedObject | undefined => {
  const name = secret.metadata?.name
  if (name === undefined || secret.metadata?.labels?.[apiKeyLabel] !== "true") return undefined
  const fields: Partial<Record<(typeof apiKeyFields)[number], string>> = {}
  for (const field of apiKeyFields) {
    const value = decode(secret.data?.[field])
    if (value !== undefined) fields[field] = value
  }
  if (fields.tenant === undefined || fields.sha256 === undefined || !/^[0-9a-f]{64}$/.test(fields.sha256)) {
    return undefined
  }
  return { _tag: "ApiKey", name, fields: { ...fields, tenant: fields.tenant, sha256: fields.sha256 } }
}

/** A custom resource as it arrives from the API server: metadata and a spec. */
export type CustomObject = KubeObject.KubeObject & { readonly spec?: unknown }

const labelsOf = (object: CustomObject): Record<string, string> => ({ ...(object.metadata?.labels ?? {}) })

export const fromTemplate = (template: CustomObject): SyncedObject | undefined => {
  const name = template.metadata?.name
  return name === undefined
    ? undefined
    : { _tag: "SandboxTemplate", name, labels: labelsOf(template), spec: template.spec ?? {} }
}

export const fromPool = (pool: CustomObject): SyncedObject | undefined => {
  const name = pool.metadata?.name
  const namespace = pool.metadata?.namespace
  return name === undefined || namespace === undefined
    ? undefined
    : { _tag: "SandboxPool", namespace, name, labels: labelsOf(pool), spec: pool.spec ?? {} }
}
