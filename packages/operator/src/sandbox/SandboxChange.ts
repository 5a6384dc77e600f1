import type { Pod } from "kubernetes-types/core/v1.js"
import * as SandboxPod from "./SandboxPod.ts"

/** What one Pod event means for the sandbox on that Pod (pure; see Sandboxes.events). */
export type SandboxChange =
  | { readonly _tag: "Allocated"; readonly sandbox: SandboxPod.SandboxPod; readonly pod: Pod }
  | { readonly _tag: "Updated"; readonly sandbox: SandboxPod.SandboxPod; readonly pod: Pod }
  | { readonly _tag: "Ended"; readonly sandbox: SandboxPod.SandboxPod }

/** The sandbox a Pod holds, if it holds one. */
export const held = (pod: Pod | undefined): SandboxPod.SandboxPod | undefined => {
  const sandbox = pod === undefined ? undefined : SandboxPod.read(pod)
  return sandbox?.state === "allocated" && sandbox.sandboxId !== undefined ? sandbox : undefined
}

/**
 * The changes from the sandbox a Pod held before (as last seen) to what it holds now (undefined: the
 * Pod is gone): a recycled Pod ends one sandbox, and a later claim of it starts another.
 */
export const between = (
  before: SandboxPod.SandboxPod | undefined,
  pod: Pod | undefined,
): ReadonlyArray<SandboxChange> => {
  const after = held(pod)
  if (after === undefined || pod === undefined)
    return before === undefined ? [] : [{ _tag: "Ended", sandbox: before }]
  if (before === undefined) return [{ _tag: "Allocated", sandbox: after, pod }]
  if (before.sandboxId !== after.sandboxId)
    return [
      { _tag: "Ended", sandbox: before },
      { _tag: "Allocated", sandbox: after, pod },
    ]
  return before.resourceVersion === after.resourceVersion ? [] : [{ _tag: "Updated", sandbox: after, pod }]
}
