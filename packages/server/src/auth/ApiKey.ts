import { hash as digest, randomBytes, timingSafeEqual } from "node:crypto"
import { Either } from "effect"
import type { Secret } from "kubernetes-types/core/v1.js"
import * as TenantPolicy from "../tenancy/TenantPolicy.ts"

/**
 * API keys look like `e2b_<40 hex>` so the E2B SDKs accept them unchanged. Only a SHA-256 of each
 * key is kept, in a labelled Secret per key; the key itself is shown once, when minted.
 */
export const apiKeyLabel = "sandbox.agent-sandbox.dev/api-key"

/** The key a request presents: `X-API-Key`, else a bearer token (HTTP, the WebSocket upgrade, an RPC message). */
export const presentedKey = (headers: Readonly<Record<string, string | undefined>>): string | undefined => {
  const key = headers["x-api-key"]
  if (key !== undefined && key !== "") return key
  const authorization = headers.authorization
  return authorization?.toLowerCase().startsWith("bearer ") === true
    ? authorization.slice(7).trim()
    : undefined
}

export interface ApiKeyEntry {
  readonly tenant: string
  readonly admin: boolean
  /** Hex SHA-256 of the key. */
  readonly sha256: string
}

/** What a Secret may say beyond the key: its pools and quotas, as written (see TenantPolicy). */
export interface PolicyData {
  readonly pools?: string | undefined
  readonly maxAllocated?: string | undefined
  readonly maxWaiting?: string | undefined
  readonly createsPerSecond?: string | undefined
}

/** A key in force: its entry and the policy its Secret (or the server's defaults) gives it. */
export interface ActiveKey extends ApiKeyEntry {
  readonly policy: TenantPolicy.TenantPolicy
}

const keyPattern = /^e2b_[0-9a-f]{40}$/

export const mint = (): string => `e2b_${randomBytes(20).toString("hex")}`

export const isWellFormed = (key: string): boolean => keyPattern.test(key)

/** Every request's key is hashed (twice: the body check and the API's own); the one-shot digest is 3× cheaper than a Hash object. */
export const hash = (key: string): string => digest("sha256", key, "hex")

/** Constant-time comparison of two hex digests of equal length. */
export const sameHash = (a: string, b: string): boolean =>
  a.length === b.length && timingSafeEqual(Buffer.from(a, "hex"), Buffer.from(b, "hex"))

const tenantPattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

export const isValidTenant = (tenant: string): boolean => tenant.length <= 63 && tenantPattern.test(tenant)

/** A key's public id: the first 16 hex digits of its SHA-256 (names its Secret; reveals nothing usable). */
export const keyIdOf = (sha256: string): string => sha256.slice(0, 16)

export const isKeyId = (id: string): boolean => /^[0-9a-f]{16}$/.test(id)

export const secretName = (id: string): string => `api-key-${id}`

/** The Secret that records one key. Named by a prefix of the hash: unique, and reveals nothing usable. */
export const toSecret = (namespace: string, entry: ApiKeyEntry, policy: PolicyData = {}): Secret => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: {
    name: secretName(keyIdOf(entry.sha256)),
    namespace,
    labels: { [apiKeyLabel]: "true", "sandbox.agent-sandbox.dev/tenant": entry.tenant },
  },
  type: "Opaque",
  stringData: {
    tenant: entry.tenant,
    sha256: entry.sha256,
    admin: String(entry.admin),
    ...Object.fromEntries(Object.entries(policy).filter(([, v]) => v !== undefined)),
  },
})

const decode = (value: string | undefined): string | undefined =>
  value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8")

/** Reads a key Secret; undefined when it is not one or is malformed (then it grants nothing). */
export const fromSecret = (secret: Secret): ApiKeyEntry | undefined => {
  if (secret.metadata?.labels?.[apiKeyLabel] !== "true") return undefined
  const tenant = decode(secret.data?.tenant)
  const sha256 = decode(secret.data?.sha256)
  const admin = decode(secret.data?.admin)
  if (
    tenant === undefined ||
    !isValidTenant(tenant) ||
    sha256 === undefined ||
    !/^[0-9a-f]{64}$/.test(sha256)
  ) {
    return undefined
  }
  return { tenant, sha256, admin: admin === "true" }
}

/** A key Secret with its policy; undefined when the Secret or its policy is malformed (it grants nothing). */
export const activeFromSecret = (
  secret: Secret,
  defaults: TenantPolicy.TenantDefaults,
): ActiveKey | undefined => {
  const entry = fromSecret(secret)
  if (entry === undefined) return undefined
  const policy = TenantPolicy.parse(
    {
      pools: decode(secret.data?.pools),
      maxAllocated: decode(secret.data?.maxAllocated),
      maxWaiting: decode(secret.data?.maxWaiting),
      createsPerSecond: decode(secret.data?.createsPerSecond),
    },
    entry.admin,
    defaults,
  )
  return Either.isRight(policy) ? { ...entry, policy: policy.right } : undefined
}

/** A key as the admin API lists it: never the key, nor its full hash. */
export interface ListedKey {
  readonly id: string
  readonly tenant: string
  readonly admin: boolean
  readonly createdAt: string | undefined
}

export const listed = (secret: Secret): ListedKey | undefined => {
  const entry = fromSecret(secret)
  return entry === undefined
    ? undefined
    : {
        id: keyIdOf(entry.sha256),
        tenant: entry.tenant,
        admin: entry.admin,
        createdAt: secret.metadata?.creationTimestamp,
      }
}
