/**
 * Clears what a Pod keeps across a restart of its sandbox container, so a Pod recycled in place
 * passes nothing of its last tenant on (docs/security.md, "Recycling"):
 * - every SysV shared memory segment, message queue and semaphore set of the Pod's IPC namespace
 *   (held by its pause container; every container of the Pod joins it): util-linux `ipcrm --all`
 *   run in that namespace by `nsenter --ipc`, then `ipcs` there must list none;
 * - every entry of the Pod's /dev/shm (the tmpfs the runtime mounts into each of its containers),
 *   reached through the restarted container's /proc/<pid>/root: symlinks are removed, never
 *   followed; an entry on another filesystem (a mount under /dev/shm) is neither crossed nor
 *   removed but fails the scrub, and the operator deletes the Pod instead.
 * The container is the one the recycle's restart started, so none of the last tenant's processes is
 * left to recreate anything meanwhile.
 */
import { execFile } from "node:child_process"
import { lstat, readdir, readFile, rmdir, unlink } from "node:fs/promises"
import * as path from "node:path"
import { Effect, Schema } from "effect"

export class PodStateScrubError extends Schema.TaggedError<PodStateScrubError>()("PodStateScrubError", {
  reason: Schema.Literal("Ipc", "Shm"),
  message: Schema.String,
}) {}

/** The programs the scrub runs (util-linux; the agent's image has them on PATH). */
export interface ScrubTools {
  readonly nsenter: string
  readonly ipcrm: string
  readonly ipcs: string
}

export const defaultTools: ScrubTools = { nsenter: "nsenter", ipcrm: "ipcrm", ipcs: "ipcs" }

const run = (file: string, args: ReadonlyArray<string>) =>
  Effect.async<string, string>((resume) => {
    execFile(file, [...args], { timeout: 10_000, maxBuffer: 1 << 20 }, (error, stdout, stderr) =>
      error === null
        ? resume(Effect.succeed(stdout))
        : resume(Effect.fail(`${file} ${args.join(" ")}: ${stderr.trim() || error.message}`)),
    )
  })

/** The ids `ipcs` lists (pure): rows of its tables start with a hex key. */
export const ipcObjects = (ipcsOutput: string): ReadonlyArray<string> =>
  ipcsOutput
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => /^0x[0-9a-f]+\s/i.test(line))

/**
 * The device (`major:minor`) of the tmpfs mounted at /dev/shm in a mountinfo (pure; undefined when
 * no tmpfs is mounted there: the container's /dev/shm is then its own and went with the restart).
 */
export const shmDevice = (mountinfo: string): string | undefined => {
  let found: string | undefined
  for (const line of mountinfo.split("\n")) {
    const [left, right] = line.split(" - ")
    const fields = left?.split(" ") ?? []
    const fsType = right?.split(" ")[0]
    // The last mount at a point is the one seen there.
    if (fields[4] === "/dev/shm") found = fsType === "tmpfs" ? fields[2] : undefined
  }
  return found
}

const deviceOf = (dev: number) => `${Math.floor(dev / 256) & 0xfff}:${(dev & 0xff) | ((dev >> 12) & 0xfff00)}`

const clearIpc = (pid: number, tools: ScrubTools) =>
  Effect.gen(function* () {
    const ns = `--ipc=/proc/${pid}/ns/ipc`
    yield* run(tools.nsenter, [ns, "--", tools.ipcrm, "--all"])
    const left = ipcObjects(yield* run(tools.nsenter, [ns, "--", tools.ipcs, "-m", "-q", "-s"]))
    if (left.length > 0) return yield* Effect.fail(`still in the Pod's IPC namespace: ${left.join("; ")}`)
  }).pipe(Effect.mapError((message) => new PodStateScrubError({ reason: "Ipc", message })))

/** Removes everything under `dir` on device `dev`, depth first, never following a symlink. */
const removeUnder = async (dir: string, dev: number): Promise<void> => {
  for (const name of await readdir(dir)) {
    const entry = path.join(dir, name)
    const stat = await lstat(entry)
    if (stat.dev !== dev) throw new Error(`${name} is another mount: not crossed`)
    if (stat.isDirectory()) {
      await removeUnder(entry, dev)
      await rmdir(entry)
    } else {
      await unlink(entry)
    }
  }
}

const clearShm = (pid: number) =>
  Effect.tryPromise({
    try: async () => {
      const device = shmDevice(await readFile(`/proc/${pid}/mountinfo`, "utf8"))
      if (device === undefined) return
      const root = `/proc/${pid}/root/dev/shm`
      const stat = await lstat(root)
      if (!stat.isDirectory() || deviceOf(stat.dev) !== device)
        throw new Error(`${root} is not the tmpfs mounted at /dev/shm (${device})`)
      await removeUnder(root, stat.dev)
      const left = await readdir(root)
      if (left.length > 0) throw new Error(`still in /dev/shm: ${left.join(", ")}`)
    },
    catch: (cause) =>
      new PodStateScrubError({
        reason: "Shm",
        message: `clearing /dev/shm: ${cause instanceof Error ? cause.message : String(cause)}`,
      }),
  })

/** Clears the Pod state seen by the container process `pid`: its IPC namespace, then its /dev/shm. */
export const scrub = (
  pid: number,
  tools: ScrubTools = defaultTools,
): Effect.Effect<void, PodStateScrubError> => Effect.zipRight(clearIpc(pid, tools), clearShm(pid))
