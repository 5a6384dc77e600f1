/**
 * The sizes E2B reports per sandbox (cpuCount, memoryMB, diskSizeMB), read from the sandbox
 * container's resource limits, else its requests. 0 means the container sets neither: it is
 * bounded only by its node.
 */
import { SandboxPod } from "@agent-sandbox/operator"
import type { Pod } from "kubernetes-types/core/v1.js"
import * as ResourceQuantity from "./ResourceQuantity.ts"

export interface SandboxSize {
  readonly cpuCount: number
  readonly memoryMB: number
  readonly diskSizeMB: number
}

export const unknown: SandboxSize = { cpuCount: 0, memoryMB: 0, diskSizeMB: 0 }

export const of = (pod: Pod, containerName: string | undefined): SandboxSize => {
  const resources = SandboxPod.sandboxContainer(pod, containerName)?.resources
  const quantity = (name: string): string | undefined => {
    const value = resources?.limits?.[name] ?? resources?.requests?.[name]
    return value === undefined ? undefined : String(value)
  }
  const read = (name: string, convert: (q: string) => number | undefined): number => {
    const value = quantity(name)
    return value === undefined ? 0 : (convert(value) ?? 0)
  }
  return {
    cpuCount: read("cpu", ResourceQuantity.cpuCount),
    memoryMB: read("memory", ResourceQuantity.mebibytes),
    diskSizeMB: read("ephemeral-storage", ResourceQuantity.mebibytes),
  }
}
