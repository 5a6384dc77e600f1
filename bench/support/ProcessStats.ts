import { execFileSync } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { basename } from "node:path"

/** Kernel clock ticks per second (utime/stime in /proc/<pid>/stat count these). */
const clockTicks = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100
  } catch {
    return 100
  }
})()

/** User + system CPU a process has used so far, in milliseconds; undefined when it is gone. */
export const cpuMillis = (pid: number): number | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    const utime = Number(fields[11])
    const stime = Number(fields[12])
    return ((utime + stime) * 1000) / clockTicks
  } catch {
    return undefined
  }
}

export interface Memory {
  /** Resident set size now, MiB. */
  readonly rssMiB: number
  /** The highest RSS the process has had, MiB. */
  readonly peakMiB: number
  /** Of the RSS: anonymous memory (heaps, malloc) and file pages (mostly the node binary, shared). */
  readonly anonMiB: number
  readonly fileMiB: number
}

export const memory = (pid: number): Memory | undefined => {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8")
    const kib = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN)
    return {
      rssMiB: kib("VmRSS") / 1024,
      peakMiB: kib("VmHWM") / 1024,
      anonMiB: kib("RssAnon") / 1024,
      fileMiB: kib("RssFile") / 1024,
    }
  } catch {
    return undefined
  }
}

export interface NamedProcess {
  readonly name: string
  readonly pid: number
}

/**
 * The processes of one local control plane: every process whose command line mentions its data
 * directory (each component is started with certificates, kubeconfigs or data under it).
 */
export const processesUnder = (dataDir: string): ReadonlyArray<NamedProcess> => {
  const found: Array<NamedProcess> = []
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8")
        .split("\0")
        .filter((a) => a !== "")
      if (!argv.some((arg) => arg.includes(dataDir))) continue
      const script = argv.find((arg) => arg.endsWith(".ts"))
      found.push({ name: basename(script ?? argv[0] ?? entry).replace(/\.ts$/, ""), pid: Number(entry) })
    } catch {
      // Gone while we looked.
    }
  }
  return found.sort((a, b) => a.name.localeCompare(b.name))
}

/** CPU milliseconds per named process at one moment; the bench's own process is "bench client". */
export type CpuSnapshot = ReadonlyMap<string, number>

export const cpuSnapshot = (processes: ReadonlyArray<NamedProcess>): CpuSnapshot => {
  const snapshot = new Map<string, number>()
  for (const { name, pid } of processes) {
    const millis = cpuMillis(pid)
    if (millis !== undefined) snapshot.set(name, (snapshot.get(name) ?? 0) + millis)
  }
  const own = process.cpuUsage()
  snapshot.set("bench client", (own.user + own.system) / 1000)
  return snapshot
}

/** CPU used between two snapshots, per process. */
export const cpuBetween = (before: CpuSnapshot, after: CpuSnapshot): ReadonlyMap<string, number> =>
  new Map([...after].map(([name, millis]) => [name, millis - (before.get(name) ?? millis)]))

/** CPU milliseconds per operation, by process. */
export const perOperation = (cpu: ReadonlyMap<string, number>, operations: number) =>
  new Map([...cpu].map(([name, millis]) => [name, operations > 0 ? millis / operations : Number.NaN]))
