/**
 * Where a sandbox's container is on this node and how to enter it, asked of the runtime once per
 * container start and kept: a command then costs one read of /proc/<pid>/stat (is that process
 * still the one we know, by its start time?) instead of two CRI calls. A restarted container (an
 * in-place image change, a recycle) has a new pid, so the next command asks the runtime again.
 * A target naming the container id the server confirmed is served by that container only.
 */
import { readFileSync } from "node:fs"
import type { SandboxTarget } from "@agent-sandbox/envd"
import { Context, Effect, Either, Layer } from "effect"
import * as CgroupPaths from "./CgroupPaths.ts"
import * as ContainerProcess from "./ContainerProcess.ts"
import { CriRuntime } from "./CriRuntime.ts"
import { NodeAgentError } from "./NodeAgentError.ts"

export interface SandboxContainer {
  readonly containerId: string
  readonly process: ContainerProcess.ContainerProcess
  /** The cgroup.procs files that put a process into the container's cgroups. */
  readonly cgroupFiles: ReadonlyArray<string>
  /** /proc/<pid>/stat's start time: tells the container's process from a later one with its pid. */
  readonly startTime: string
}

export interface SandboxContainersShape {
  readonly locate: (target: SandboxTarget.SandboxTarget) => Effect.Effect<SandboxContainer, NodeAgentError>
  /** Forgets what is known of the target's container (entering it failed). */
  readonly forget: (target: SandboxTarget.SandboxTarget) => Effect.Effect<void>
}

export class SandboxContainers extends Context.Tag("@agent-sandbox/node-agent/SandboxContainers")<
  SandboxContainers,
  SandboxContainersShape
>() {}

/** Field 22 of /proc/<pid>/stat (the command name, field 2, may hold spaces: count after its `)`). */
export const startTimeOf = (stat: string): string | undefined =>
  stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]

const readStartTime = (pid: number): string | undefined => {
  try {
    return startTimeOf(readFileSync(`/proc/${pid}/stat`, "utf8"))
  } catch {
    return undefined
  }
}

/** Whether `container` is the one the target names (any, when it names no id). */
export const isConfirmed = (
  target: SandboxTarget.SandboxTarget,
  container: { readonly containerId: string },
) => target.containerId === undefined || target.containerId === container.containerId

const keyOf = (target: SandboxTarget.SandboxTarget) =>
  `${target.namespace}/${target.pod}/${target.container ?? ""}`

export const make = Effect.gen(function* () {
  const cri = yield* CriRuntime
  const mounts = CgroupPaths.cgroupMounts(readFileSync("/proc/self/mountinfo", "utf8"))
  const known = new Map<string, SandboxContainer>()

  const lookUp = (target: SandboxTarget.SandboxTarget) =>
    Effect.gen(function* () {
      if (target.container === undefined) {
        return yield* new NodeAgentError({
          reason: "ContainerNotFound",
          message: "the grant names no container",
        })
      }
      const running = yield* cri.findRunning(target.namespace, target.pod, target.container)
      if (target.podUid !== undefined && running.podUid !== target.podUid) {
        return yield* new NodeAgentError({
          reason: "ContainerNotFound",
          message: `Pod ${target.namespace}/${target.pod} on this node is not the sandbox's Pod (uid ${running.podUid}, not ${target.podUid})`,
        })
      }
      const info = yield* cri.verboseInfo(running.id)
      const process = ContainerProcess.fromVerboseInfo(info)
      if (Either.isLeft(process)) {
        return yield* new NodeAgentError({
          reason: "BadSpec",
          message: `container ${running.id}: ${process.left}`,
        })
      }
      const { pid } = process.right
      const read = Effect.try({
        try: () => ({
          cgroup: readFileSync(`/proc/${pid}/cgroup`, "utf8"),
          startTime: readStartTime(pid),
        }),
        catch: (cause) =>
          new NodeAgentError({
            reason: "ContainerNotFound",
            message: `container ${running.id} ended: ${cause}`,
          }),
      })
      const { cgroup, startTime } = yield* read
      if (startTime === undefined) {
        return yield* new NodeAgentError({
          reason: "ContainerNotFound",
          message: `container ${running.id} ended`,
        })
      }
      const container: SandboxContainer = {
        containerId: running.id,
        process: process.right,
        cgroupFiles: CgroupPaths.procsFiles(cgroup, mounts),
        startTime,
      }
      known.set(keyOf(target), container)
      return container
    })

  const locate = (target: SandboxTarget.SandboxTarget) =>
    Effect.suspend(() => {
      const cached = known.get(keyOf(target))
      return cached !== undefined &&
        isConfirmed(target, cached) &&
        readStartTime(cached.process.pid) === cached.startTime
        ? Effect.succeed(cached)
        : Effect.filterOrFail(
            lookUp(target),
            (found) => isConfirmed(target, found),
            (found) =>
              new NodeAgentError({
                reason: "ContainerChanged",
                message: `the sandbox's container is ${found.containerId} now, not ${target.containerId} as the server confirmed: it restarted (retry)`,
              }),
          )
    })

  return {
    locate,
    forget: (target) => Effect.sync(() => known.delete(keyOf(target))),
  } satisfies SandboxContainersShape
})

export const layer: Layer.Layer<SandboxContainers, never, CriRuntime> = Layer.effect(SandboxContainers, make)
