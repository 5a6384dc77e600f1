import * as fs from "node:fs"
import { Effect } from "effect"
import { run } from "./HostCommand.ts"
import { RealNodeError } from "./RealNodeError.ts"

/** Why this machine cannot run a real node, checked before anything is built or changed. */
export const problems = (facts: {
  readonly uid: number | undefined
  readonly filesystems: string
  readonly cgroupMounted: boolean
  readonly unshareWorks: boolean
}): ReadonlyArray<string> => [
  ...(facts.uid === 0 ? [] : ["not root (the kubelet, containerd and runc need root)"]),
  ...(/\boverlay\b/.test(facts.filesystems) ? [] : ["the kernel has no overlay filesystem"]),
  ...(facts.cgroupMounted ? [] : ["no cgroup hierarchy is mounted under /sys/fs/cgroup"]),
  ...(facts.unshareWorks ? [] : ["cannot make mount, PID and network namespaces (unshare failed)"]),
]

const readOr = (file: string, fallback: string) => {
  try {
    return fs.readFileSync(file, "utf8")
  } catch {
    return fallback
  }
}

export const check: Effect.Effect<void, RealNodeError> = Effect.gen(function* () {
  const uid = process.getuid?.()
  const unshare =
    uid === 0 ? yield* run("unshare", ["--mount", "--pid", "--net", "--fork", "true"]) : undefined
  const found = problems({
    uid,
    filesystems: readOr("/proc/filesystems", ""),
    cgroupMounted: /\scgroup2?\s/.test(readOr("/proc/self/mounts", "")),
    unshareWorks: unshare?.code === 0,
  })
  if (found.length > 0) return yield* new RealNodeError({ reason: "Unavailable", message: found.join("; ") })
})

/** runc itself, once installed. */
export const checkRunc: Effect.Effect<string, RealNodeError> = Effect.gen(function* () {
  const version = yield* run("runc", ["--version"])
  if (version.code !== 0) {
    return yield* new RealNodeError({
      reason: "Unavailable",
      message: `runc does not run: ${version.stderr.trim()}`,
    })
  }
  const which = yield* run("sh", ["-c", "command -v runc"])
  return which.stdout.trim()
})
