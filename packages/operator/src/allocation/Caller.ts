import type * as SandboxPod from "../sandbox/SandboxPod.ts"

/** Who asks: a tenant sees and touches only its own sandboxes, an admin every tenant's. */
export interface Caller {
  readonly tenant: string
  readonly admin: boolean
}

export const admin: Caller = { tenant: "", admin: true }

export const canSee = (caller: Caller, sandbox: SandboxPod.SandboxPod): boolean =>
  sandbox.state === "allocated" && (caller.admin || sandbox.tenant === caller.tenant)
