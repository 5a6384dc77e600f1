/**
 * One long-lived sandbox-enter process per container (see helper/sandbox-enter.c): started once,
 * already in the container's cgroups and namespaces with its user and capabilities, it forks each
 * program the agent asks for over its unix socket. It exits by itself when the container's
 * process ends and dies with the agent; `stop` ends it sooner (idle, or its container changed).
 */
import { spawn } from "node:child_process"
import { rmSync } from "node:fs"
import { Deferred, Effect } from "effect"
import { NodeAgentError } from "./NodeAgentError.ts"
import type { SandboxContainer } from "./SandboxContainers.ts"

/** The helper's own failure to enter (its message is on stderr). */
export const enterFailedExitCode = 125

const hex = (mask: bigint) => mask.toString(16)

/** The helper's arguments (see helper/sandbox-enter.c). */
export const helperArgs = (container: SandboxContainer, socket: string): ReadonlyArray<string> => {
  const process = container.process
  return [
    String(process.pid),
    container.startTime,
    String(process.uid),
    String(process.gid),
    process.additionalGids.length === 0 ? "-" : process.additionalGids.join(","),
    process.cwd === "" ? "-" : process.cwd,
    hex(process.capabilities.bounding),
    hex(process.capabilities.effective),
    hex(process.capabilities.permitted),
    hex(process.capabilities.inheritable),
    process.noNewPrivileges ? "1" : "0",
    container.cgroupFiles.length === 0 ? "-" : container.cgroupFiles.join(":"),
    socket,
    container.containerId,
  ]
}

export interface EnteredProcess {
  readonly pid: number
  readonly socket: string
  readonly containerId: string
  /** Completes when the process has exited, with how (exit code or signal, its last stderr). */
  readonly exited: Deferred.Deferred<string>
  readonly stop: Effect.Effect<void>
}

/** Starts the helper for `container`, listening on `socket`; succeeds once it serves. */
export const start = (
  helper: string,
  container: SandboxContainer,
  socket: string,
): Effect.Effect<EnteredProcess, NodeAgentError> =>
  Effect.gen(function* () {
    const exited = yield* Deferred.make<string>()
    const ready = yield* Deferred.make<void, NodeAgentError>()
    const child = spawn(helper, helperArgs(container, socket), {
      env: container.process.env,
      // stdin: closing it (the agent exiting) ends the helper; stdout: its "ready" line.
      stdio: ["pipe", "pipe", "pipe"],
    })
    let stderr = ""
    child.stderr.setEncoding("utf8").on("data", (text: string) => {
      stderr = (stderr + text).slice(-2000)
    })
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      if (text.includes("ready")) Deferred.unsafeDone(ready, Effect.void)
    })
    child.stdin.on("error", () => {})
    const notRunning = (why: string) =>
      new NodeAgentError({
        reason: "ContainerNotFound",
        message: `entering container ${container.containerId} failed (${why})${stderr === "" ? "" : `: ${stderr.trim()}`}`,
      })
    child.once("error", (error) => Deferred.unsafeDone(ready, Effect.fail(notRunning(error.message))))
    child.once("close", (code, signal) => {
      rmSync(socket, { force: true })
      Deferred.unsafeDone(ready, Effect.fail(notRunning(code !== null ? `exit code ${code}` : `${signal}`)))
      const how = code !== null ? `exit code ${code}` : `${signal}`
      Deferred.unsafeDone(exited, Effect.succeed(stderr === "" ? how : `${how}: ${stderr.trim()}`))
    })
    yield* Deferred.await(ready).pipe(Effect.onInterrupt(() => Effect.sync(() => child.kill("SIGKILL"))))
    return {
      pid: child.pid ?? 0,
      socket,
      containerId: container.containerId,
      exited,
      stop: Effect.suspend(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
        return Effect.asVoid(Deferred.await(exited))
      }),
    }
  })
