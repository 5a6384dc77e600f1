import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { Duration, Effect, type Scope } from "effect"
import { RealNodeError } from "./RealNodeError.ts"

/**
 * One real node per machine: its bridge, node address, iptables chains and sysctls are the
 * machine's. The lock is flock(1) on a file, held by a small child that lives as long as its stdin
 * pipe from us: when this process ends, however it ends, the pipe closes and the lock is free.
 */
export const acquire = (
  lockFile: string,
  wait: Duration.DurationInput,
): Effect.Effect<void, RealNodeError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<ReturnType<typeof spawn>, RealNodeError>((resume) => {
      fs.mkdirSync(path.dirname(lockFile), { recursive: true })
      const seconds = Math.max(0, Math.round(Duration.toSeconds(wait)))
      const child = spawn(
        "flock",
        ["-w", String(seconds), "-E", "75", lockFile, "-c", "echo locked; exec cat"],
        {
          stdio: ["pipe", "pipe", "ignore"],
          // Its own session: a terminal's Ctrl-C must not free the machine while the node is still stopping.
          detached: true,
        },
      )
      let settled = false
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        if (!settled && chunk.includes("locked")) {
          settled = true
          resume(Effect.succeed(child))
        }
      })
      child.once("exit", (code) => {
        if (settled) return
        settled = true
        resume(
          Effect.fail(
            new RealNodeError({
              reason: "Unavailable",
              message:
                code === 75
                  ? `another real node holds this machine (${lockFile}) and did not stop within ${seconds}s`
                  : `cannot take ${lockFile} (flock exited ${code})`,
            }),
          ),
        )
      })
      child.once("error", (cause) => {
        if (settled) return
        settled = true
        resume(Effect.fail(new RealNodeError({ reason: "Unavailable", message: `flock: ${cause.message}` })))
      })
      return Effect.sync(() => child.kill("SIGKILL"))
    }),
    (child) => Effect.sync(() => child.stdin?.end()),
  ).pipe(Effect.asVoid)
