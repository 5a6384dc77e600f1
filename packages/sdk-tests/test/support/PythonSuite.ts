/**
 * The Python SDK suite (python/, pytest) run in each SDK version's virtualenv against a server:
 * which cases passed per version, and pytest's report for a failure message.
 */
import { execFile } from "node:child_process"
import { join } from "node:path"
import { promisify } from "node:util"
import { Effect } from "effect"

const run = promisify(execFile)
const root = join(import.meta.dirname, "../../../..")
const suiteDir = join(import.meta.dirname, "../../python")

/** Every test of python/, each of which must pass for every SDK version. */
export const expected = [
  "test_commands.py::test_output_and_exit_codes",
  "test_commands.py::test_envs_and_cwd",
  "test_commands.py::test_stdin",
  "test_commands.py::test_background_and_kill",
  "test_commands.py::test_sandbox_env_vars",
  "test_commands.py::test_pty",
  "test_files.py::test_read_write_and_directory_operations",
  "test_files.py::test_watch",
  "test_files.py::test_paths_are_not_shell",
  "test_lifecycle.py::test_lifecycle",
]

/** The venvs, made (or found in the cache) by the same script `./dev test` runs first. */
export const venvs = Effect.promise(async () => {
  const { stdout } = await run(join(root, "scripts/python-env.sh"), { maxBuffer: 1024 * 1024 })
  return stdout
    .trim()
    .split("\n")
    .map((line) => line.split(" ") as [string, string])
})

const pytest = (venv: string, environment: Record<string, string>) =>
  Effect.promise(() =>
    run(join(venv, "bin/python"), ["-m", "pytest", "-rA", "--tb=short", "-q"], {
      cwd: suiteDir,
      env: { ...process.env, ...environment, PYTHONDONTWRITEBYTECODE: "1" },
      maxBuffer: 16 * 1024 * 1024,
      timeout: 600_000,
    }).then(
      ({ stdout }) => ({ stdout }),
      // pytest exits non-zero when a case fails: its report is still on stdout.
      (error: { stdout?: string; stderr?: string; message: string }) => ({
        stdout: `${error.stdout ?? ""}\n${error.stderr ?? ""}\n${error.message}`,
      }),
    ),
  )

/** Runs the suite with every SDK version: the cases that did not pass, per version, and the reports. */
export const notPassed = (environment: Record<string, string>) =>
  Effect.gen(function* () {
    const missing: Record<string, Array<string>> = {}
    const outputs: Array<string> = []
    for (const [name, venv] of yield* venvs) {
      const result = yield* pytest(venv, environment)
      outputs.push(`==== ${name}\n${result.stdout}`)
      const passed = [...result.stdout.matchAll(/^PASSED (\S+)/gm)].map((m) => m[1] ?? "")
      missing[name] = expected.filter((t) => !passed.includes(t))
    }
    return { missing, report: outputs.join("\n") }
  })
