/**
 * Whose CPU a command costs, beside how long it takes: this process (the E2B server and the
 * operator), the SDK's load process, the node agent, and the sandbox containers (the entered process's
 * supervisor, the launch script and the program: they run in the containers' cgroups), sampled
 * before and after a load and divided by its commands. Milliseconds of CPU per command.
 */
import { readFileSync } from "node:fs"
import { type Duration, Effect } from "effect"
import { cpuMillis } from "../support/ProcessStats.ts"

export interface CpuSample {
  readonly self: number
  readonly sdk: number | undefined
  readonly agent: number | undefined
  readonly containers: number | undefined
}

const readNumber = (file: string): number | undefined => {
  try {
    const value = Number(readFileSync(file, "utf8").trim())
    return Number.isFinite(value) ? value : undefined
  } catch {
    return undefined
  }
}

/** Where a Pod's cgroup sits under the kubelet's cgroupfs driver, per QoS class. */
const podDirectories = (uid: string) =>
  ["kubepods/besteffort", "kubepods/burstable", "kubepods"].map((parent) => `${parent}/pod${uid}`)

/** CPU (ms) the Pods' cgroups have used: cgroup v1's cpuacct.usage (ns), else v2's usage_usec. */
export const podsCpuMillis = (podUids: ReadonlyArray<string>): number | undefined => {
  let total = 0
  for (const uid of podUids) {
    const v1 = podDirectories(uid)
      .map((dir) => readNumber(`/sys/fs/cgroup/cpuacct/${dir}/cpuacct.usage`))
      .find((ns) => ns !== undefined)
    if (v1 !== undefined) {
      total += v1 / 1e6
      continue
    }
    const v2 = podDirectories(uid)
      .map((dir) => {
        try {
          const stat = readFileSync(`/sys/fs/cgroup/${dir}/cpu.stat`, "utf8")
          return Number(/^usage_usec (\d+)$/m.exec(stat)?.[1])
        } catch {
          return undefined
        }
      })
      .find((usec) => usec !== undefined && Number.isFinite(usec))
    if (v2 === undefined) return undefined
    total += v2 / 1000
  }
  return total
}

export const sample = (
  agentPid: number | undefined,
  podUids: ReadonlyArray<string>,
  sdkPid?: number | undefined,
): CpuSample => {
  const usage = process.cpuUsage()
  return {
    self: (usage.user + usage.system) / 1000,
    sdk: sdkPid === undefined ? undefined : cpuMillis(sdkPid),
    agent: agentPid === undefined ? undefined : cpuMillis(agentPid),
    containers: podsCpuMillis(podUids),
  }
}

const per = (after: number | undefined, before: number | undefined, count: number) =>
  after === undefined || before === undefined || count === 0 ? undefined : (after - before) / count

/** CPU ms per command between two samples. */
export const perCommand = (before: CpuSample, after: CpuSample, count: number) => ({
  self: per(after.self, before.self, count),
  sdk: per(after.sdk, before.sdk, count),
  agent: per(after.agent, before.agent, count),
  containers: per(after.containers, before.containers, count),
})

export const cell = (value: number | undefined) => (value === undefined ? "–" : value.toFixed(2))

/** This process's CPU while nothing is asked of it for `period`, ms per second. */
export const idleMillisPerSecond = (period: Duration.DurationInput) =>
  Effect.gen(function* () {
    const before = process.cpuUsage()
    const t0 = performance.now()
    yield* Effect.sleep(period)
    const used = process.cpuUsage(before)
    return (used.user + used.system) / 1000 / ((performance.now() - t0) / 1000)
  })
