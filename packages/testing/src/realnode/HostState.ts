import * as fs from "node:fs"
import { Effect, Option, Schema } from "effect"
import { run } from "./HostCommand.ts"
import {
  cgroupRoots,
  chainsOf,
  nodeCgroupNames,
  parseMountinfo,
  sysctlPath,
  touchedSysctls,
} from "./HostDecisions.ts"
import { RealNodeError } from "./RealNodeError.ts"
import type { RealNodeLayout } from "./RealNodeLayout.ts"

/**
 * What the host looked like before the real node changed it, written before the first change and
 * removed once everything is put back: its presence on a start means a runner died mid-way.
 */
export const HostState = Schema.Struct({
  sysctls: Schema.Record({ key: Schema.String, value: Schema.String }),
  /** iptables/ip6tables -> table -> chains that existed. */
  iptablesChains: Schema.Record({
    key: Schema.String,
    value: Schema.Record({ key: Schema.String, value: Schema.Array(Schema.String) }),
  }),
  nftTables: Schema.String,
  /** ipset names (kube-router's firewall adds some); absent in a state saved before they were tracked. */
  ipsets: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  /** Directories outside ours that containerd, CNI or `ip netns` create when missing. */
  existingDirs: Schema.Array(Schema.String),
  existingCgroups: Schema.Array(Schema.String),
})
export type HostState = typeof HostState.Type

export const iptablesCommands = ["iptables", "ip6tables"] as const
export const iptablesTables = ["filter", "nat", "mangle"] as const
/** Outside our directories, but created on demand by containerd, the CNI plugins and netns handling. */
export const sharedDirs = [
  "/run/containerd",
  "/run/netns",
  "/var/lib/cni",
  "/etc/cni",
  "/opt/cni",
  "/var/log/containers",
  "/var/log/pods",
] as const

const readSysctl = (name: string): Option.Option<string> => {
  try {
    return Option.some(fs.readFileSync(sysctlPath(name), "utf8").trim())
  } catch {
    return Option.none()
  }
}

export const currentSysctls = (): Record<string, string> =>
  Object.fromEntries(
    touchedSysctls.flatMap((name) =>
      Option.toArray(Option.map(readSysctl(name), (value) => [name, value] as const)),
    ),
  )

export const mounts = () => parseMountinfo(fs.readFileSync("/proc/self/mountinfo", "utf8"))

/** Every existing node cgroup (kubepods, k8s.io) at the top of each hierarchy. */
export const nodeCgroups = (): ReadonlyArray<string> =>
  cgroupRoots(mounts()).flatMap((root) =>
    nodeCgroupNames.map((name) => `${root}/${name}`).filter((dir) => fs.existsSync(dir)),
  )

export const capture: Effect.Effect<HostState> = Effect.gen(function* () {
  const iptablesChains: Record<string, Record<string, ReadonlyArray<string>>> = {}
  for (const command of iptablesCommands) {
    iptablesChains[command] = {}
    for (const table of iptablesTables) {
      const listed = yield* run(command, ["-w", "-t", table, "-S"])
      iptablesChains[command][table] = listed.code === 0 ? chainsOf(listed.stdout) : []
    }
  }
  const nft = yield* run("nft", ["list", "tables"])
  const sets = yield* run("ipset", ["list", "-n"])
  return {
    sysctls: currentSysctls(),
    iptablesChains,
    nftTables: nft.code === 0 ? nft.stdout : "",
    ipsets: sets.code === 0 ? sets.stdout.split("\n").filter(Boolean) : [],
    existingDirs: sharedDirs.filter((dir) => fs.existsSync(dir)),
    existingCgroups: nodeCgroups(),
  }
})

const decode = Schema.decodeUnknown(Schema.parseJson(HostState))

export const read = (layout: RealNodeLayout): Effect.Effect<Option.Option<HostState>, RealNodeError> =>
  fs.existsSync(layout.hostStateFile)
    ? decode(fs.readFileSync(layout.hostStateFile, "utf8")).pipe(
        Effect.map(Option.some),
        Effect.mapError(
          (cause) =>
            new RealNodeError({
              reason: "SetupFailed",
              message: `${layout.hostStateFile} is unreadable: ${cause}`,
            }),
        ),
      )
    : Effect.succeed(Option.none())

export const write = (layout: RealNodeLayout, state: HostState): Effect.Effect<void, RealNodeError> =>
  Effect.try({
    try: () => {
      fs.mkdirSync(layout.stateRoot, { recursive: true, mode: 0o700 })
      fs.writeFileSync(layout.hostStateFile, JSON.stringify(state, null, 2), { mode: 0o600 })
    },
    catch: (cause) =>
      new RealNodeError({ reason: "SetupFailed", message: `saving the host's state: ${cause}` }),
  })
