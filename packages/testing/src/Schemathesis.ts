/**
 * Schemathesis from PyPI (installed by scripts/schemathesis-env.sh in the cache) run against an
 * API on loopback: a bounded, seeded run of an OpenAPI document's operations with the checks named.
 * Its output names each failure with a curl command that reproduces it.
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { promisify } from "node:util"
import { Effect } from "effect"
import { ControlPlaneError } from "./ControlPlaneError.ts"

const root = path.join(import.meta.dirname, "../../..")

/** The `st` command (the script installs the wheel on first use). */
export const binary = Effect.tryPromise({
  try: () => promisify(execFile)(path.join(root, "scripts/schemathesis-env.sh"), { maxBuffer: 1024 * 1024 }),
  catch: (cause) =>
    new ControlPlaneError({
      component: "schemathesis",
      reason: "SetupFailed",
      message: `scripts/schemathesis-env.sh: ${cause}`,
    }),
}).pipe(Effect.map(({ stdout }) => stdout.trim().split("\n").at(-1) ?? ""))

export interface RunOptions {
  /** A URL or a file of the OpenAPI document. */
  readonly schema: string
  /** The API's base URL. */
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly checks: ReadonlyArray<string>
  /** Test cases per operation, per phase. */
  readonly maxExamples: number
  readonly seed: number
  readonly phases?: ReadonlyArray<string>
  /**
   * Server-error statuses the API documents on purpose (E2B's 501 for a feature this server does not
   * offer), accepted by `not_a_server_error`; every other 5xx fails it.
   */
  readonly documentedServerErrors?: ReadonlyArray<number>
}

export interface RunResult {
  /** 0 when every check passed. */
  readonly exitCode: number
  /** What schemathesis printed (its summary names each failure and a curl to reproduce it). */
  readonly output: string
}

/** `st run ...` with a fixed seed and budget; the process's exit code and output. */
export const run = (options: RunOptions): Effect.Effect<RunResult, ControlPlaneError> =>
  Effect.gen(function* () {
    const st = yield* binary
    const args = [
      "--no-color",
      "run",
      options.schema,
      "--url",
      options.url,
      "--checks",
      options.checks.join(","),
      "--max-examples",
      String(options.maxExamples),
      "--seed",
      String(options.seed),
      "--phases",
      (options.phases ?? ["examples", "coverage", "fuzzing"]).join(","),
      "--workers",
      "1",
      "--request-timeout",
      "20",
      "--suppress-health-check",
      "all",
      ...Object.entries(options.headers).flatMap(([name, value]) => ["--header", `${name}: ${value}`]),
    ]
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "schemathesis-"))
    const accepted = ["2xx", "3xx", "4xx", ...(options.documentedServerErrors ?? []).map(String)]
    const config = path.join(cwd, "schemathesis.toml")
    fs.writeFileSync(config, `[checks.not_a_server_error]\nexpected-statuses = ${JSON.stringify(accepted)}\n`)
    args.unshift("--config-file", config)
    return yield* Effect.async<RunResult>((resume) => {
      execFile(st, args, { cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
        fs.rmSync(cwd, { recursive: true, force: true })
        const exitCode = error === null ? 0 : typeof error.code === "number" ? error.code : 1
        resume(Effect.succeed({ exitCode, output: `${stdout}${stderr}` }))
      })
    })
  })
