import { spawn } from "node:child_process"
import { Effect } from "effect"

/** Runs a program to completion; killed if the caller is interrupted. */
export const runProgram = (
  path: string,
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>> = process.env,
  input?: string,
): Effect.Effect<{ readonly code: number; readonly stdout: string; readonly stderr: string }> =>
  Effect.async((resume) => {
    const child = spawn(path, [...args], {
      env,
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    })
    child.stdin?.end(input)
    let stdout = ""
    let stderr = ""
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk
    })
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk
    })
    child.on("error", (error) => resume(Effect.succeed({ code: -1, stdout, stderr: String(error) })))
    child.on("close", (code) => resume(Effect.succeed({ code: code ?? -1, stdout, stderr })))
    return Effect.sync(() => {
      child.kill("SIGKILL")
    })
  })
