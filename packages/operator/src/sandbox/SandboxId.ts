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

export const isWellFormed = SandboxIdFormat.isWellFormed
