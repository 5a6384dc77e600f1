import { randomFillSync } from "node:crypto"
import { SandboxIdFormat } from "@agent-sandbox/domain"

const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

/** The largest multiple of 36 a byte reaches: bytes from it up are drawn again, so no letter is favoured. */
const unbiasedBelow = 252

/** System randomness drawn a page at a time (one system call per ~200 ids, not one per character). */
const pool = new Uint8Array(4096)
let next = pool.length

const randomByte = (): number => {
  if (next === pool.length) {
    randomFillSync(pool)
    next = 0
  }
  return pool[next++] ?? 0
}

/**
 * A sandbox id: 20 lowercase letters and digits (about 103 bits), behind the cluster's tag when the
 * operator has one (`<cluster>-<random>`, SandboxIdFormat), fit for a label value and a DNS label
 * (E2B SDKs address a sandbox as `49983-<id>.<domain>`).
 */
export const mint = (cluster?: SandboxIdFormat.ClusterTag): string => {
  // Twenty `randomInt(36)` calls cost 4-5× this (each validates its arguments and draws alone).
  let id = ""
  while (id.length < 20) {
    const byte = randomByte()
    if (byte < unbiasedBelow) id += alphabet[byte % alphabet.length]
  }
  return SandboxIdFormat.compose(cluster, id)
}

/** A fresh id that `inUse` does not know (a second draw of 103 random bits is all but certain to do). */
export const mintUnused = (inUse: (id: string) => boolean, cluster?: SandboxIdFormat.ClusterTag): string => {
  let id = mint(cluster)
  while (inUse(id)) id = mint(cluster)
  return id
}

/** An id of the form `mint` makes (tagged or not): only these are worth asking the API server about. */
export const isMinted = (id: string): boolean => /^(?:[a-z0-9]{1,16}-)?[a-z0-9]{20}$/.test(id)

export const isWellFormed = SandboxIdFormat.isWellFormed
