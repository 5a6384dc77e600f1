import * as fs from "node:fs"
import * as path from "node:path"
import { Duration, Effect, Option } from "effect"
import { describeFailure, run } from "./HostCommand.ts"
import {
  cgroupRemovalOrder,
  ipsetsToDestroy,
  iptablesCleanup,
  mountsToUndo,
  nftTablesToDelete,
  sysctlPath,
  sysctlsToRestore,
} from "./HostDecisions.ts"
import {
  currentSysctls,
  type HostState,
  iptablesCommands,
  iptablesTables,
  mounts,
  nodeCgroups,
  sharedDirs,
} from "./HostState.ts"
import { network, type RealNodeLayout } from "./RealNodeLayout.ts"

/**
 * Puts the host back as HostState saw it, whatever state a real node left it in (stopped in order,
 * or its runner killed mid-way): processes, mounts, network namespaces, links and addresses,
 * iptables chains, ipsets and nft tables, sysctls, cgroups, directories; in the order that leaves nothing
 * busy behind. Each step goes on after a failure of the one before; what could not be undone is
 * returned (and then reported by `leftovers`).
 */

/** Processes of the real node: their command line names a path inside one of its directories. */
const nodeProcessIds = (layout: RealNodeLayout): ReadonlyArray<number> =>
  fs
    .readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .filter((pid) => {
      try {
        const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8")
        // Paths inside them: the machine lock beside the state root (another runner waiting) is not ours.
        return cmdline.includes(`${layout.stateRoot}/`) || cmdline.includes(`${layout.runRoot}/`)
      } catch {
        return false
      }
    })
    .map(Number)

const descendantDirs = (dir: string): ReadonlyArray<string> => {
  try {
    return [
      dir,
      ...fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .flatMap((entry) => descendantDirs(path.join(dir, entry.name))),
    ]
  } catch {
    return []
  }
}

const ourCgroups = (state: Option.Option<HostState>): ReadonlyArray<string> =>
  nodeCgroups().filter((dir) => !Option.exists(state, (s) => s.existingCgroups.includes(dir)))

/** Container processes: whatever is left in the node's cgroups. */
const cgroupProcessIds = (state: Option.Option<HostState>): ReadonlyArray<number> =>
  ourCgroups(state)
    .flatMap(descendantDirs)
    .flatMap((dir) => {
      try {
        return fs.readFileSync(path.join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number)
      } catch {
        return []
      }
    })

const killAll = (pids: ReadonlyArray<number>) =>
  Effect.sync(() => {
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL")
      } catch {
        // Already gone.
      }
    }
  })

const killNodeProcesses = (layout: RealNodeLayout, state: Option.Option<HostState>) =>
  Effect.gen(function* () {
    const remaining = () => [...nodeProcessIds(layout), ...cgroupProcessIds(state)]
    for (let attempt = 0; attempt < 50 && remaining().length > 0; attempt++) {
      yield* killAll(remaining())
      yield* Effect.sleep(Duration.millis(100))
    }
    const left = remaining()
    return left.length === 0 ? [] : [`processes still running: ${left.join(" ")}`]
  })

const netnsMounts = (): ReadonlyArray<string> =>
  mounts()
    .map((mount) => mount.mountPoint)
    .filter((point) => point.startsWith("/run/netns/cni-"))

const mountRoots = (layout: RealNodeLayout, state: Option.Option<HostState>): ReadonlyArray<string> => [
  layout.stateRoot,
  layout.runRoot,
  "/run/containerd",
  ...netnsMounts(),
  ...(Option.exists(state, (s) => s.existingDirs.includes("/run/netns")) ? [] : ["/run/netns"]),
]

const unmountAll = (layout: RealNodeLayout, state: Option.Option<HostState>) =>
  Effect.gen(function* () {
    const problems: Array<string> = []
    for (const point of mountsToUndo(mounts(), mountRoots(layout, state))) {
      const plain = yield* run("umount", [point])
      if (plain.code !== 0) {
        const lazy = yield* run("umount", ["-l", point])
        if (lazy.code !== 0) problems.push(describeFailure("umount -l", [point], lazy))
      }
    }
    return problems
  })

const removeNetns = Effect.sync(() => {
  try {
    for (const entry of fs.readdirSync("/run/netns")) {
      if (entry.startsWith("cni-")) fs.rmSync(path.join("/run/netns", entry), { force: true })
    }
  } catch {
    // No /run/netns.
  }
})

const removeLinks = Effect.gen(function* () {
  const problems: Array<string> = []
  const enslaved = yield* run("ip", ["-o", "link", "show", "master", network.bridge])
  if (enslaved.code === 0) {
    for (const line of enslaved.stdout.split("\n").filter(Boolean)) {
      const name = line.split(":")[1]?.trim().split("@")[0]
      if (name) yield* run("ip", ["link", "del", name])
    }
  }
  const bridge = yield* run("ip", ["link", "show", network.bridge])
  if (bridge.code === 0) {
    const deleted = yield* run("ip", ["link", "del", network.bridge])
    if (deleted.code !== 0) problems.push(describeFailure("ip link del", [network.bridge], deleted))
  }
  const address = yield* run("ip", ["-o", "addr", "show", "dev", "lo"])
  if (address.stdout.includes(` ${network.nodeIp}/32 `)) {
    const deleted = yield* run("ip", ["addr", "del", `${network.nodeIp}/32`, "dev", "lo"])
    if (deleted.code !== 0) problems.push(describeFailure("ip addr del", [network.nodeIp], deleted))
  }
  return problems
})

const removeFirewall = (state: Option.Option<HostState>) =>
  Effect.gen(function* () {
    const problems: Array<string> = []
    for (const command of iptablesCommands) {
      for (const table of iptablesTables) {
        const listed = yield* run(command, ["-w", "-t", table, "-S"])
        if (listed.code !== 0) continue
        const before = Option.match(state, {
          onNone: () => [],
          onSome: (s) => s.iptablesChains[command]?.[table] ?? [],
        })
        for (const args of iptablesCleanup(listed.stdout, before)) {
          const result = yield* run(command, ["-w", "-t", table, ...args])
          if (result.code !== 0) problems.push(describeFailure(command, ["-t", table, ...args], result))
        }
      }
    }
    // After the rules that match on them: a set still referenced cannot be destroyed.
    const sets = yield* run("ipset", ["list", "-n"])
    if (sets.code === 0) {
      const before = Option.match(state, { onNone: () => [], onSome: (s) => s.ipsets })
      for (const name of ipsetsToDestroy(sets.stdout, before)) {
        const result = yield* run("ipset", ["destroy", name])
        if (result.code !== 0) problems.push(describeFailure("ipset destroy", [name], result))
      }
    }
    const tables = yield* run("nft", ["list", "tables"])
    if (tables.code === 0 && Option.isSome(state)) {
      for (const args of nftTablesToDelete(tables.stdout, state.value.nftTables)) {
        const result = yield* run("nft", args)
        if (result.code !== 0) problems.push(describeFailure("nft", args, result))
      }
    }
    return problems
  })

const restoreSysctls = (state: Option.Option<HostState>) =>
  Effect.sync(() =>
    Option.match(state, {
      onNone: () => [],
      onSome: (s) =>
        sysctlsToRestore(s.sysctls, currentSysctls()).flatMap(([name, value]) => {
          try {
            fs.writeFileSync(sysctlPath(name), value)
            return []
          } catch (cause) {
            return [`sysctl ${name}=${value}: ${cause}`]
          }
        }),
    }),
  )

const removeCgroups = (state: Option.Option<HostState>) =>
  Effect.gen(function* () {
    let left: ReadonlyArray<string> = []
    // A cgroup whose last process just died may still be busy for a moment.
    for (let attempt = 0; attempt < 20; attempt++) {
      left = cgroupRemovalOrder(ourCgroups(state).flatMap(descendantDirs)).filter((dir) => {
        try {
          fs.rmdirSync(dir)
          return false
        } catch {
          return true
        }
      })
      if (left.length === 0) return []
      yield* Effect.sleep(Duration.millis(100))
    }
    return [`cgroups not removed: ${left.join(" ")}`]
  })

const removeDirectories = (layout: RealNodeLayout, state: Option.Option<HostState>) =>
  Effect.sync(() => {
    const problems: Array<string> = []
    const remove = (dir: string) => {
      try {
        fs.rmSync(dir, { recursive: true, force: true })
      } catch (cause) {
        problems.push(`rm -rf ${dir}: ${cause}`)
      }
    }
    remove(layout.runRoot)
    // Logs stay for a post-mortem; the next start replaces them.
    for (const entry of fs.existsSync(layout.stateRoot) ? fs.readdirSync(layout.stateRoot) : []) {
      const dir = path.join(layout.stateRoot, entry)
      if (dir !== layout.logsDir && dir !== layout.hostStateFile) remove(dir)
    }
    for (const dir of sharedDirs) {
      if (!Option.exists(state, (s) => s.existingDirs.includes(dir))) remove(dir)
    }
    return problems
  })

/** Runs every step; returns what it could not undo (empty when the host is as it was). */
export const cleanHost = (
  layout: RealNodeLayout,
  state: Option.Option<HostState>,
): Effect.Effect<ReadonlyArray<string>> =>
  Effect.gen(function* () {
    const problems = [...(yield* killNodeProcesses(layout, state)), ...(yield* unmountAll(layout, state))]
    yield* removeNetns
    problems.push(...(yield* removeLinks))
    problems.push(...(yield* removeFirewall(state)))
    problems.push(...(yield* restoreSysctls(state)))
    problems.push(...(yield* removeCgroups(state)))
    problems.push(...(yield* removeDirectories(layout, state)))
    if (problems.length === 0) yield* Effect.sync(() => fs.rmSync(layout.hostStateFile, { force: true }))
    return problems
  })

/** What of the real node is still on the host (empty after a full clean-up): for checks and tests. */
export const leftovers = (layout: RealNodeLayout, state: HostState): Effect.Effect<ReadonlyArray<string>> =>
  Effect.gen(function* () {
    const found: Array<string> = []
    for (const point of mountsToUndo(mounts(), mountRoots(layout, Option.some(state))))
      found.push(`mount ${point}`)
    const bridge = yield* run("ip", ["link", "show", network.bridge])
    if (bridge.code === 0) found.push(`link ${network.bridge}`)
    const veths = yield* run("ip", ["-o", "link", "show", "type", "veth"])
    if (veths.stdout.trim() !== "") found.push(`veth links: ${veths.stdout.trim()}`)
    const address = yield* run("ip", ["-o", "addr", "show", "dev", "lo"])
    if (address.stdout.includes(` ${network.nodeIp}/32 `)) found.push(`address ${network.nodeIp} on lo`)
    for (const command of iptablesCommands) {
      for (const table of iptablesTables) {
        const listed = yield* run(command, ["-w", "-t", table, "-S"])
        if (iptablesCleanup(listed.stdout, state.iptablesChains[command]?.[table] ?? []).length > 0) {
          found.push(`${command} -t ${table} chains`)
        }
      }
    }
    const sets = yield* run("ipset", ["list", "-n"])
    for (const name of ipsetsToDestroy(sets.stdout, state.ipsets)) found.push(`ipset ${name}`)
    for (const [name, value] of sysctlsToRestore(state.sysctls, currentSysctls())) {
      found.push(`sysctl ${name} is not back to ${value}`)
    }
    for (const dir of ourCgroups(Option.some(state))) found.push(`cgroup ${dir}`)
    for (const pid of nodeProcessIds(layout)) found.push(`process ${pid}`)
    if (fs.existsSync(layout.runRoot)) found.push(`directory ${layout.runRoot}`)
    return found
  })
