/**
 * Pure decisions of the real node's host clean-up: which mounts to undo, which iptables rules
 * and chains to remove, which cgroups to delete, in which order. HostCleanup runs them.
 */

/** The kubelet's own sysctls (protectKernelDefaults off) and the bridge plugin's forwarding. */
export const touchedSysctls = [
  "vm.overcommit_memory",
  "vm.panic_on_oom",
  "kernel.panic",
  "kernel.panic_on_oops",
  "kernel.keys.root_maxkeys",
  "kernel.keys.root_maxbytes",
  "net.ipv4.ip_forward",
] as const

export const sysctlPath = (name: string): string => `/proc/sys/${name.replaceAll(".", "/")}`

/** The sysctls whose value now differs from the saved one: what to write back. */
export const sysctlsToRestore = (
  saved: Readonly<Record<string, string>>,
  now: Readonly<Record<string, string>>,
): ReadonlyArray<readonly [string, string]> =>
  Object.entries(saved).filter(([name, value]) => now[name] !== undefined && now[name] !== value)

/** One line of /proc/self/mountinfo: its mount point and filesystem type (octal escapes decoded). */
export interface MountEntry {
  readonly id: number
  readonly mountPoint: string
  readonly fsType: string
}

const unescapeMountPath = (field: string): string =>
  field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)))

export const parseMountinfo = (text: string): ReadonlyArray<MountEntry> =>
  text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const fields = line.split(" ")
      const separator = fields.indexOf("-")
      return {
        id: Number(fields[0]),
        mountPoint: unescapeMountPath(fields[4] ?? ""),
        fsType: fields[separator + 1] ?? "",
      }
    })

const under = (file: string, dir: string): boolean => file === dir || file.startsWith(`${dir}/`)

/**
 * Mounts at or below any of `roots`, newest first (a later mount may sit on top of an earlier one
 * or below it: undoing them in reverse order of creation never finds a mount still busy with a child).
 */
export const mountsToUndo = (
  mounts: ReadonlyArray<MountEntry>,
  roots: ReadonlyArray<string>,
): ReadonlyArray<string> =>
  mounts
    .filter((mount) => roots.some((root) => under(mount.mountPoint, root)))
    .sort((a, b) => b.id - a.id)
    .map((mount) => mount.mountPoint)

/** The mount points of every cgroup hierarchy (v1 controllers and the v2 `unified` one). */
export const cgroupRoots = (mounts: ReadonlyArray<MountEntry>): ReadonlyArray<string> => [
  ...new Set(
    mounts
      .filter((mount) => mount.fsType === "cgroup" || mount.fsType === "cgroup2")
      .map((m) => m.mountPoint),
  ),
]

/** The cgroups the kubelet and containerd create at the top of each hierarchy. */
export const nodeCgroupNames = ["kubepods", "k8s.io"] as const

/** Children before parents: rmdir only removes an empty cgroup. */
export const cgroupRemovalOrder = (dirs: ReadonlyArray<string>): ReadonlyArray<string> =>
  [...dirs].sort((a, b) => b.split("/").length - a.split("/").length || b.localeCompare(a))

/** Splits an `iptables -S` line into arguments: double-quoted words (comments) stay whole. */
export const splitRule = (line: string): ReadonlyArray<string> => {
  const words: Array<string> = []
  let current = ""
  let quoted = false
  let inWord = false
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!
    if (quoted) {
      if (char === "\\" && line[i + 1] === '"') {
        current += '"'
        i++
      } else if (char === '"') quoted = false
      else current += char
    } else if (char === '"') {
      quoted = true
      inWord = true
    } else if (char === " ") {
      if (inWord) words.push(current)
      current = ""
      inWord = false
    } else {
      current += char
      inWord = true
    }
  }
  if (inWord) words.push(current)
  return words
}

/** The chains the kubelet makes (KUBE-FIREWALL, KUBE-KUBELET-CANARY, KUBE-IPTABLES-HINT, ...). */
export const isNodeChain = (chain: string): boolean => chain.startsWith("KUBE-")

/** Chains `iptables -S` declares (`-N NAME`). */
export const chainsOf = (rules: string): ReadonlyArray<string> =>
  rules
    .split("\n")
    .map(splitRule)
    .filter((words) => words[0] === "-N" && words[1] !== undefined)
    .map((words) => words[1]!)

/**
 * The iptables commands (arguments after `-t <table>`) that remove what the node added to one
 * table: first every rule that jumps into one of its chains from elsewhere, then the chains'
 * own rules, then the chains. Chains that existed before the node started are left alone.
 */
export const iptablesCleanup = (
  rules: string,
  chainsBefore: ReadonlyArray<string>,
): ReadonlyArray<ReadonlyArray<string>> => {
  const ours = new Set(chainsOf(rules).filter((chain) => isNodeChain(chain) && !chainsBefore.includes(chain)))
  if (ours.size === 0) return []
  const jumps = rules
    .split("\n")
    .map(splitRule)
    .filter((words) => words[0] === "-A" && !ours.has(words[1]!))
    .filter((words) =>
      words.some((word, i) => (words[i - 1] === "-j" || words[i - 1] === "-g") && ours.has(word)),
    )
    .map((words) => ["-D", ...words.slice(1)])
  return [...jumps, ...[...ours].map((chain) => ["-F", chain]), ...[...ours].map((chain) => ["-X", chain])]
}

/** `nft list tables` lines ("table ip kube-proxy") the node added: `nft delete table <family> <name>`. */
export const nftTablesToDelete = (
  tablesNow: string,
  tablesBefore: string,
): ReadonlyArray<ReadonlyArray<string>> => {
  const lines = (text: string) =>
    text
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line.startsWith("table "))
  const before = new Set(lines(tablesBefore))
  return lines(tablesNow)
    .filter((line) => !before.has(line))
    .map((line) => ["delete", ...line.split(/\s+/)])
}

/**
 * ipsets (`ipset list -n`, one name a line) the node's firewall added: kube-router's `KUBE-…` sets
 * (`inet6:KUBE-…` for IPv6) that were not there before. Destroyed after the iptables rules that use them.
 */
export const ipsetsToDestroy = (
  namesNow: string,
  namesBefore: ReadonlyArray<string>,
): ReadonlyArray<string> => {
  const before = new Set(namesBefore)
  return namesNow
    .split("\n")
    .map((name) => name.trim())
    .filter((name) => /^(inet6:)?KUBE-/.test(name) && !before.has(name))
}
