import { spawn } from "node:child_process"
import { Effect } from "effect"

export interface KubectlResult {
  readonly exitCode: number
  readonly stdout: string
  readonly stderr: string
}

/** The kubectl these tests drive; it reads $KUBECONFIG, which the vitest global setup sets. */
export const kubectlPath = "/usr/bin/kubectl"

/** Runs kubectl to completion (killed if the test is interrupted); `input` goes to its stdin. */
export const kubectl = (args: ReadonlyArray<string>, input?: string): Effect.Effect<KubectlResult> =>
  Effect.async<KubectlResult>((resume) => {
    const child = spawn(kubectlPath, [...args], { stdio: ["pipe", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk
    })
    child.on("error", (error) => resume(Effect.succeed({ exitCode: -1, stdout, stderr: String(error) })))
    child.on("close", (code) => resume(Effect.succeed({ exitCode: code ?? -1, stdout, stderr })))
    child.stdin.end(input ?? "")
    return Effect.sync(() => {
      child.kill("SIGKILL")
    })
  })

/** kubectl that must succeed: its stdout, or a defect carrying its stderr. */
export const kubectlOk = (args: ReadonlyArray<string>, input?: string): Effect.Effect<string> =>
  Effect.flatMap(kubectl(args, input), (result) =>
    result.exitCode === 0
      ? Effect.succeed(result.stdout)
      : Effect.dieMessage(`kubectl ${args.join(" ")} failed (${result.exitCode}): ${result.stderr}`),
  )
