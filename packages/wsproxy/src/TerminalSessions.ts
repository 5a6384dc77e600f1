/**
 * The terminals this replica has open, by sandbox, and the terminal tokens it has spent.
 * Admission (TerminalAdmission) and the bookkeeping run in one synchronous step, so two upgrades
 * can never both spend one token or both take a sandbox's last place.
 */
import { TerminalTokenLedger } from "@agent-sandbox/domain"
import { Clock, Context, Effect, type Either, Layer } from "effect"
import * as TerminalAdmission from "./TerminalAdmission.ts"

export interface TerminalSessionsShape {
  /** Admits a terminal and counts it open, or says why not. */
  readonly admit: (request: {
    readonly key: Uint8Array
    readonly sandboxId: string
    readonly token: string | undefined
    readonly maxSessions: number
  }) => Effect.Effect<Either.Either<TerminalAdmission.Admitted, TerminalAdmission.Refusal>>
  /** Counts a terminal admitted for `sandboxId` closed. */
  readonly closed: (sandboxId: string) => Effect.Effect<void>
  /** Terminals open now, all sandboxes (or one). */
  readonly open: (sandboxId?: string) => Effect.Effect<number>
}

export class TerminalSessions extends Context.Tag("@agent-sandbox/wsproxy/TerminalSessions")<
  TerminalSessions,
  TerminalSessionsShape
>() {}

export const make = Effect.sync((): TerminalSessionsShape => {
  const bySandbox = new Map<string, number>()
  let ledger = TerminalTokenLedger.empty
  return {
    admit: (request) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const openSessions = bySandbox.get(request.sandboxId) ?? 0
        const decision = TerminalAdmission.admit({ ...request, now, ledger, openSessions })
        if (decision._tag === "Right") {
          ledger = decision.right.ledger
          bySandbox.set(request.sandboxId, openSessions + 1)
        }
        return decision
      }),
    closed: (sandboxId) =>
      Effect.sync(() => {
        const left = (bySandbox.get(sandboxId) ?? 1) - 1
        if (left <= 0) bySandbox.delete(sandboxId)
        else bySandbox.set(sandboxId, left)
      }),
    open: (sandboxId) =>
      Effect.sync(() =>
        sandboxId === undefined
          ? [...bySandbox.values()].reduce((sum, n) => sum + n, 0)
          : (bySandbox.get(sandboxId) ?? 0),
      ),
  }
})

export const layer = Layer.effect(TerminalSessions, make)
