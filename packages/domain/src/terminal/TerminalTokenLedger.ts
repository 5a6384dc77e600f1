/**
 * The ids of spent terminal tokens, each kept until its token expires (after that the expiry
 * alone refuses it). Pure: a value in, a value out.
 */
export interface TerminalTokenLedger {
  /** id -> the token's expiry (ms). */
  readonly spent: ReadonlyMap<string, number>
}

export const empty: TerminalTokenLedger = { spent: new Map() }

export type Spend =
  | { readonly _tag: "Spent"; readonly ledger: TerminalTokenLedger }
  | { readonly _tag: "AlreadySpent" }

/** Spends `id` (valid until `expiresAt`), forgetting ids whose tokens have expired by `now`. */
export const spend = (ledger: TerminalTokenLedger, id: string, expiresAt: number, now: number): Spend => {
  if (ledger.spent.has(id)) return { _tag: "AlreadySpent" }
  const spent = new Map<string, number>()
  for (const [other, until] of ledger.spent) if (until > now) spent.set(other, until)
  spent.set(id, expiresAt)
  return { _tag: "Spent", ledger: { spent } }
}
