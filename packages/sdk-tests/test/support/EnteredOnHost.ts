/**
 * The node agent's entered processes (packages/node-agent/helper/sandbox-enter.c) as the host sees
 * them: every process whose /proc/PID/cmdline is the agent's helper with a socket in the agent's
 * socket directory (its arguments name the container's pid and id), and the cgroups they joined,
 * read from the host's cgroupfs. The real-node suite checks with these that one process per
 * container serves it, lives in the container's cgroups and is gone with the container or the agent.
 */
import { readdirSync, readFileSync } from "node:fs"
import * as path from "node:path"
import type { NodeAgentProcess } from "@agent-sandbox/testing"

export interface EnteredOnHost {
  readonly pid: number
  /** The container's own process it entered (argv[1]). */
  readonly containerPid: number
  /** argv[14], the container id. */
  readonly containerId: string
  readonly socket: string
  /** A per-program supervisor (a child of an entered process), not the entered process itself. */
  readonly supervisor: boolean
}

const readOr = (file: string) => {
  try {
    return readFileSync(file, "utf8")
  } catch {
    return ""
  }
}

const parentOf = (pid: number) => {
  const stat = readOr(`/proc/${pid}/stat`)
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
}

/** The agent's helper processes now running on the host. */
export const scan = (agent: NodeAgentProcess.NodeAgentProcess): ReadonlyArray<EnteredOnHost> => {
  const helpers = new Map<number, ReadonlyArray<string>>()
  for (const name of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(name)) continue
    const argv = readOr(`/proc/${name}/cmdline`).split("\0")
    if (argv[0] === agent.helper && argv[13]?.startsWith(`${agent.socketDir}/`) === true) {
      helpers.set(Number(name), argv)
    }
  }
  return [...helpers].map(([pid, argv]) => ({
    pid,
    containerPid: Number(argv[1]),
    containerId: argv[14] ?? "",
    socket: argv[13] ?? "",
    supervisor: helpers.has(parentOf(pid)),
  }))
}

/** The entered processes (not supervisors) serving `containerId`. */
export const enteredFor = (agent: NodeAgentProcess.NodeAgentProcess, containerId: string) =>
  scan(agent).filter((p) => !p.supervisor && p.containerId === containerId)

/** Any helper process (entered or supervisor) still serving `containerId`. */
export const leftFor = (agent: NodeAgentProcess.NodeAgentProcess, containerId: string) =>
  scan(agent).filter((p) => p.containerId === containerId)

/**
 * The host's cgroup.procs file of `pid`'s memory cgroup (the hierarchy whose limit a sandbox's
 * programs must share): cgroup v1's `memory` hierarchy, or cgroup v2's single one.
 */
export const memoryCgroupProcs = (pid: number): string | undefined => {
  const lines = readOr(`/proc/${pid}/cgroup`)
    .split("\n")
    .map((line) => /^(\d+):([^:]*):(.*)$/.exec(line))
    .filter((match) => match !== null)
  const v1 = lines.find((match) => match[2]!.split(",").includes("memory"))
  if (v1 !== undefined) return path.join("/sys/fs/cgroup/memory", v1[3]!, "cgroup.procs")
  const v2 = lines.find((match) => match[1] === "0" && match[2] === "")
  return v2 === undefined ? undefined : path.join("/sys/fs/cgroup", v2[3]!, "cgroup.procs")
}

/** The pids a cgroup.procs file lists (host pids: the test reads it from the host). */
export const pidsIn = (file: string): ReadonlyArray<number> =>
  readOr(file)
    .split("\n")
    .filter((l) => l !== "")
    .map(Number)
