/**
 * What a key may do beyond its tenant's own sandboxes, read from its Secret (data `pools`,
 * `maxAllocated`, `maxWaiting`, `createsPerSecond`), with the server's defaults where a key says
 * nothing. Pure: parsing and the pool decision.
 */
import type { TenantQuotas } from "@agent-sandbox/domain"
import { Either } from "effect"

export interface TenantDefaults {
  /** Pools of keys whose Secret names none (default: every pool of the server's default namespace). */
  readonly pools: ReadonlyArray<string>
  /** Quotas of tenant keys whose Secret sets none; admin keys have none unless their Secret sets them. */
  readonly quotas: TenantQuotas
}

export const unlimited: TenantQuotas = {
  maxAllocated: Number.POSITIVE_INFINITY,
  maxWaiting: Number.POSITIVE_INFINITY,
  createsPerSecond: Number.POSITIVE_INFINITY,
}

/** Bounds one tenant without getting in the way of an RL pipeline's bursts (thousands waiting, a thousand a second). */
export const defaultQuotas: TenantQuotas = {
  maxAllocated: 10_000,
  maxWaiting: 2_000,
  createsPerSecond: 1_000,
}

export const defaults = (defaultNamespace: string): TenantDefaults => ({
  pools: [`${defaultNamespace}/*`],
  quotas: defaultQuotas,
})

const part = /^[a-z0-9*]([-a-z0-9*]{0,61}[a-z0-9*])?$/

/** `namespace/name` with `*` wildcards; a lone `*` means every pool. */
export const isPoolPattern = (pattern: string): boolean => {
  if (pattern === "*") return true
  const [namespace, name, ...rest] = pattern.split("/")
  return (
    rest.length === 0 &&
    namespace !== undefined &&
    name !== undefined &&
    part.test(namespace) &&
    part.test(name)
  )
}

/** Each pattern compiled once: a key's patterns are tested on every request it makes. */
const globs = new Map<string, RegExp>()
const maxCachedGlobs = 1024

const globPattern = (glob: string): RegExp => {
  let pattern = globs.get(glob)
  if (pattern === undefined) {
    pattern = new RegExp(
      `^${glob
        .split("*")
        .map((s) => s.replace(/[.+?^${}()|[\]\\-]/g, "\\$&"))
        .join("[^/]*")}$`,
    )
    // Patterns come from the key Secrets (a handful); the bound only keeps a churn of keys from growing it.
    if (globs.size >= maxCachedGlobs) globs.clear()
    globs.set(glob, pattern)
  }
  return pattern
}

const globMatches = (glob: string, value: string): boolean => globPattern(glob).test(value)

/** Whether a pool is within the patterns. */
export const allowsPool = (pools: ReadonlyArray<string>, namespace: string, pool: string): boolean =>
  pools.some((pattern) => pattern === "*" || globMatches(pattern, `${namespace}/${pool}`))

/** Whether the caller may use (allocate from, list) a pool: admins any. */
export const mayUse = (
  tenant: { readonly admin: boolean; readonly pools: ReadonlyArray<string> },
  namespace: string,
  pool: string,
): boolean => tenant.admin || allowsPool(tenant.pools, namespace, pool)

/** The Secret's `pools`: patterns separated by commas, spaces or newlines; "" grants none. */
export const parsePools = (text: string): Either.Either<ReadonlyArray<string>, string> => {
  const patterns = text.split(/[\s,]+/).filter((p) => p !== "")
  const bad = patterns.find((p) => !isPoolPattern(p))
  return bad === undefined
    ? Either.right(patterns)
    : Either.left(`pools: '${bad}' is not a 'namespace/name' pattern (letters, digits, '-', '*')`)
}

const parseLimit = (name: string, text: string): Either.Either<number, string> => {
  const value = Number(text.trim())
  return text.trim() !== "" && Number.isFinite(value) && value >= 0
    ? Either.right(value)
    : Either.left(`${name}: '${text}' is not a number of 0 or more`)
}

export interface TenantPolicy {
  readonly pools: ReadonlyArray<string>
  readonly quotas: TenantQuotas
}

/**
 * A key's policy from its Secret's decoded data. A value that does not parse fails the whole key
 * (it then grants nothing) rather than falling back to something wider than meant.
 */
export const parse = (
  data: Readonly<Record<string, string | undefined>>,
  admin: boolean,
  fallback: TenantDefaults,
): Either.Either<TenantPolicy, string> =>
  Either.gen(function* () {
    const pools = data.pools === undefined ? fallback.pools : yield* parsePools(data.pools)
    const base = admin ? unlimited : fallback.quotas
    const limit = (name: keyof TenantQuotas) => {
      const text = data[name]
      return text === undefined ? Either.right(base[name]) : parseLimit(name, text)
    }
    return {
      pools,
      quotas: {
        maxAllocated: Math.floor(yield* limit("maxAllocated")),
        maxWaiting: Math.floor(yield* limit("maxWaiting")),
        createsPerSecond: yield* limit("createsPerSecond"),
      },
    }
  })
