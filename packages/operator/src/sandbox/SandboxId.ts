import { randomBytes } from "node:crypto"

const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

/**
 * A sandbox id: 20 lowercase letters and digits (about 103 bits), fit for a label value and a
 * DNS label (E2B SDKs address a sandbox as `49983-<id>.<domain>`).
 */
export const mint = (): string => Array.from(randomBytes(20), (b) => alphabet[b % alphabet.length]).join("")

export const isWellFormed = (id: string): boolean => /^[a-z0-9]{1,63}$/.test(id)
