import { type Sandbox, TerminalGrant, TerminalToken } from "@agent-sandbox/domain"
import type { Sandboxes } from "@agent-sandbox/operator"
import { DateTime } from "effect"

/** A signed, single-use terminal token for the caller's sandbox, good for `ttlMillis` from `now`. */
export const grant = (
  key: Uint8Array,
  allocated: Sandboxes.AllocatedSandbox,
  view: Sandbox,
  now: number,
  ttlMillis: number,
): TerminalGrant => {
  const { sandbox } = allocated
  const expiresAt = now + ttlMillis
  const claims = new TerminalToken.TerminalClaims({
    id: TerminalToken.newId(),
    sandboxId: view.id,
    tenant: view.tenant,
    namespace: sandbox.namespace,
    pod: sandbox.name,
    container: sandbox.containerName,
    expiresAt,
  })
  return new TerminalGrant({
    token: TerminalToken.sign(key, claims),
    path: TerminalToken.terminalPath(view.id),
    expiresAt: DateTime.unsafeMake(expiresAt),
  })
}
