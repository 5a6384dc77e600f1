/**
 * The sizes E2B reports per sandbox (cpuCount, memoryMB, diskSizeMB), read from the sandbox
 * container's resource limits, else its requests. 0 means the container sets neither: it is
 * bounded only by its node.
 */
import type { Pod } from "kubernetes-types/core/v1.js"
import * as ResourceQuantity from "./ResourceQuantity.ts"

export interface SandboxSize {
  readonly cpuCount: number
  readonly memoryMB: number
  readonly diskSizeMB: number
}

/** The size of the sandbox container `containerName` of the Pod. */
export const of = (pod: Pod, containerName: string): SandboxSize => {
  const resources = pod.spec?.containers?.find((c) => c.name === containerName)?.resources
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
