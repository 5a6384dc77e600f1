import { execFile } from "node:child_process"
import { Effect } from "effect"

export interface CommandResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const systemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/**
 * Runs a host command to completion and reports how it ended; never fails (clean-up steps go on
 * after one of theirs did, and the caller decides what a non-zero exit means).
 */
export const run = (
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly env?: Record<string, string>; readonly timeoutMillis?: number } = {},
): Effect.Effect<CommandResult> =>
  Effect.async((resume) => {
    const child = execFile(
      command,
      args as Array<string>,
      {
        env: { PATH: systemPath, HOME: "/root", ...options.env },
        timeout: options.timeoutMillis ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 127) : 0
        resume(
          Effect.succeed({ code, stdout: String(stdout), stderr: String(stderr || error?.message || "") }),
        )
      },
    )
    return Effect.sync(() => child.kill("SIGKILL"))
  })

export const describeFailure = (
  command: string,
  args: ReadonlyArray<string>,
  result: CommandResult,
): string =>
  `${command} ${args.join(" ")} exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`
