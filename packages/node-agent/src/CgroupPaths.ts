/**
 * The cgroup.procs files a process must be written into to join another process's cgroups (so the
 * container's limits apply to it), from the target's /proc/<pid>/cgroup and the agent's own
 * /proc/self/mountinfo. Works for cgroup v1 (one line per hierarchy, matched to its mount by the
 * controllers in the mount's super options), v2 (`0::/path`, the cgroup2 mount) and both at once.
 */

export interface CgroupMount {
  readonly mountPoint: string
  /** The cgroup path the mount shows as its root (`/` unless the agent sits in a cgroup namespace). */
  readonly root: string
  /** v1: its controllers (and `name=...`); v2: empty. */
  readonly controllers: ReadonlySet<string>
  readonly version: 1 | 2
}

/** mountinfo escapes spaces and the like as octal (`\040`). */
const unescapeOctal = (field: string): string =>
  field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)))

export const cgroupMounts = (mountinfo: string): ReadonlyArray<CgroupMount> =>
  mountinfo.split("\n").flatMap((line): ReadonlyArray<CgroupMount> => {
    const [before, after] = line.split(" - ")
    if (before === undefined || after === undefined) return []
    const fields = before.split(" ")
    const [fsType, , superOptions] = after.split(" ")
    const root = fields[3]
    const mountPoint = fields[4]
    if (root === undefined || mountPoint === undefined) return []
    if (fsType === "cgroup2") {
      return [
        {
          mountPoint: unescapeOctal(mountPoint),
          root: unescapeOctal(root),
          controllers: new Set<string>(),
          version: 2 as const,
        },
      ]
    }
    if (fsType !== "cgroup") return []
    const controllers = new Set((superOptions ?? "").split(",").filter((o) => o !== "rw" && o !== "ro"))
    return [
      { mountPoint: unescapeOctal(mountPoint), root: unescapeOctal(root), controllers, version: 1 as const },
    ]
  })

const within = (root: string, path: string): string | undefined => {
  if (root === "/") return path
  if (path === root) return "/"
  return path.startsWith(`${root}/`) ? path.slice(root.length) : undefined
}

/** One cgroup.procs file per hierarchy the process is in that the agent can see mounted. */
export const procsFiles = (procCgroup: string, mounts: ReadonlyArray<CgroupMount>): ReadonlyArray<string> => {
  const files = new Set<string>()
  for (const line of procCgroup.split("\n")) {
    const first = line.indexOf(":")
    const second = line.indexOf(":", first + 1)
    if (first < 0 || second < 0) continue
    const hierarchy = line.slice(0, first)
    const controllers = line
      .slice(first + 1, second)
      .split(",")
      .filter((c) => c !== "")
    const path = line.slice(second + 1)
    const mount =
      hierarchy === "0" && controllers.length === 0
        ? mounts.find((m) => m.version === 2)
        : mounts.find((m) => m.version === 1 && controllers.every((c) => m.controllers.has(c)))
    if (mount === undefined) continue
    const relative = within(mount.root, path)
    if (relative === undefined) continue
    files.add(`${mount.mountPoint}${relative === "/" ? "" : relative}/cgroup.procs`)
  }
  return [...files]
}
