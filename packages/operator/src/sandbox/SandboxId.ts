import { randomInt } from "node:crypto"
import { SandboxIdFormat } from "@agent-sandbox/domain"

const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

/**
 * A sandbox id: 20 lowercase letters and digits (about 103 bits), behind the cluster's tag when the
 * operator has one (`<cluster>-<random>`, SandboxIdFormat), fit for a label value and a DNS label
 * (E2B SDKs address a sandbox as `49983-<id>.<domain>`).
 */
export const mint = (cluster?: SandboxIdFormat.ClusterTag): string => {
  // randomInt draws from a pooled buffer of system randomness (no system call per id) and
  // rejects draws that would favour some letters, which a byte modulo 36 does.
  let id = ""
  for (let i = 0; i < 20; i++) id += alphabet[randomInt(alphabet.length)]
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
