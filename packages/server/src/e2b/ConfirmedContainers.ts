/**
 * Fresh Pod reads the node-agent path reuses. Every envd request must not reach a Pod that is no
 * longer its sandbox's, which a lagging watch cannot tell (SandboxResolver reads the Pod fresh).
 * On the agent path the grant also names the container's runtime id that read saw, and the agent
 * serves that container only: a recycle restarts the container (a new id) before another tenant
 * gets the Pod, and a deleted Pod's containers are gone. So one fresh read per sandbox container
 * stands for the requests after it, as long as this replica's cache still shows that same Pod
 * and container and for `maxAgeMillis` at most; an API-server read per command is what it saves.
 */

export interface Confirmation {
  readonly podUid: string
  readonly containerId: string
  /** When the fresh read was made (unix ms). */
  readonly at: number
}

/** What this replica's cache shows of the sandbox now. */
export interface CachedView {
  readonly podUid: string
  readonly containerId: string | undefined
}

/** Whether `confirmation` may stand for a fresh read now. */
export const reusable = (
  confirmation: Confirmation | undefined,
  cached: CachedView,
  now: number,
  maxAgeMillis: number,
): confirmation is Confirmation =>
  confirmation !== undefined &&
  maxAgeMillis > 0 &&
  cached.containerId !== undefined &&
  confirmation.podUid === cached.podUid &&
  confirmation.containerId === cached.containerId &&
  now >= confirmation.at &&
  now - confirmation.at < maxAgeMillis

export interface ConfirmedContainers {
  readonly get: (sandboxId: string) => Confirmation | undefined
  readonly set: (sandboxId: string, confirmation: Confirmation) => void
  readonly forget: (sandboxId: string) => void
}

/** At most `maxEntries` sandboxes remembered; the oldest confirmation goes first. */
export const make = (maxEntries: number): ConfirmedContainers => {
  const entries = new Map<string, Confirmation>()
  return {
    get: (sandboxId) => entries.get(sandboxId),
    set: (sandboxId, confirmation) => {
      if (maxEntries <= 0) return
      entries.delete(sandboxId)
      entries.set(sandboxId, confirmation)
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next()
        if (oldest.done === true) break
        entries.delete(oldest.value)
      }
    },
    forget: (sandboxId) => {
      entries.delete(sandboxId)
    },
  }
}
