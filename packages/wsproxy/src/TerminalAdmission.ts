/**
 * Whether a WebSocket upgrade may open a terminal: the origin, then the token (signature,
 * expiry, the sandbox it names, single use), then the sandbox's session limit. Pure.
 */
import { TerminalToken, TerminalTokenLedger } from "@agent-sandbox/domain"
import { Either } from "effect"
import { CloseCode } from "./TerminalFrames.ts"

/** Only a browser sends Origin; without one there is no cross-site page to guard against. */
export const originAllowed = (
  origin: string | undefined,
  host: string | undefined,
  allowed: ReadonlyArray<string>,
): boolean => {
  if (origin === undefined) return true
  if (allowed.length > 0) return allowed.includes(origin)
  if (host === undefined) return false
  try {
    return new URL(origin).host === host
  } catch {
    return false
  }
}

export interface Refusal {
  readonly code: number
  readonly reason: string
}

export interface AdmissionInput {
  readonly key: Uint8Array
  /** The sandbox the path names. */
  readonly sandboxId: string
  readonly token: string | undefined
  readonly now: number
  readonly ledger: TerminalTokenLedger.TerminalTokenLedger
  /** Terminals open now in that sandbox (this replica). */
  readonly openSessions: number
  readonly maxSessions: number
}

export interface Admitted {
  readonly claims: TerminalToken.TerminalClaims
  readonly ledger: TerminalTokenLedger.TerminalTokenLedger
}

export const admit = (input: AdmissionInput): Either.Either<Admitted, Refusal> => {
  if (input.token === undefined || input.token === "") {
    return Either.left({ code: CloseCode.unauthorized, reason: "a terminal token is required (?token=)" })
  }
  const verified = TerminalToken.verify(input.key, input.token, input.now)
  if (Either.isLeft(verified)) {
    return Either.left({ code: CloseCode.unauthorized, reason: TerminalToken.describe(verified.left) })
  }
  const claims = verified.right
  if (claims.sandboxId !== input.sandboxId) {
    return Either.left({ code: CloseCode.unauthorized, reason: "the terminal token is for another sandbox" })
  }
  // The limit before spending: a refused token may be tried again once a terminal closes.
  if (input.openSessions >= input.maxSessions) {
    return Either.left({
      code: CloseCode.tooMany,
      reason: `sandbox ${claims.sandboxId} has ${input.openSessions} terminals open (the most allowed)`,
    })
  }
  const spent = TerminalTokenLedger.spend(input.ledger, claims.id, claims.expiresAt, input.now)
  if (spent._tag === "AlreadySpent") {
    return Either.left({ code: CloseCode.unauthorized, reason: "the terminal token was already used" })
  }
  return Either.right({ claims, ledger: spent.ledger })
}
