/**
 * The signed grant header the server hands an agent with each request, reused for the same sandbox
 * container while at least half its life is left: signing (a Schema-checked Grant, JSON, an HMAC)
 * per command is work whose result only the expiry changes. Kept per resolved target — one object
 * per cached Pod object (SandboxResolver), so a Pod's change (its env, its uid) signs afresh — and
 * per container id, so a container the server has not confirmed is never named. The agent checks
 * the grant exactly as before; a request still reaches it with at least half a grant's life left.
 */
import { NodeAgentGrant } from "@agent-sandbox/envd"
import type { ResolvedTarget } from "./SandboxResolver.ts"

export interface Signed {
  readonly containerId: string
  readonly expiresAt: number
  readonly header: string
}

/** Whether `signed` may go with a request for `containerId` at `now`. */
export const reusable = (
  signed: Signed | undefined,
  containerId: string,
  now: number,
  grantMillis: number,
): signed is Signed =>
  signed !== undefined &&
  signed.containerId === containerId &&
  now >= signed.expiresAt - grantMillis &&
  signed.expiresAt - now >= grantMillis / 2

export type HeaderFor = (target: ResolvedTarget, containerId: string, now: number) => string

/** Grants lasting `grantMillis`, signed with `key`. */
export const make = (key: Uint8Array, grantMillis: number): HeaderFor => {
  const byTarget = new WeakMap<ResolvedTarget, Signed>()
  return (target, containerId, now) => {
    const known = byTarget.get(target)
    if (reusable(known, containerId, now, grantMillis)) return known.header
    const expiresAt = now + grantMillis
    const header = NodeAgentGrant.sign(
      key,
      new NodeAgentGrant.Grant({
        sandboxId: target.sandboxId,
        namespace: target.namespace,
        pod: target.pod,
        podUid: target.podUid,
        container: target.container,
        containerId,
        envs: target.envs,
        expiresAt,
      }),
    )
    byTarget.set(target, { containerId, expiresAt, header })
    return header
  }
}
