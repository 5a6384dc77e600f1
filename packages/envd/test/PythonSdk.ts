/**
 * A virtualenv with the Python SDK from PyPI (e2b, unchanged), made once per machine in the
 * project's cache directory and reused.
 */
import { execFile } from "node:child_process"
import { existsSync } from "node:fs"
import { mkdir, rm } from "node:fs/promises"
import { homedir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"

export const pythonSdkVersion = "2.63.0"

const run = promisify(execFile)

/** The venv's python, with `e2b==<pythonSdkVersion>` installed. */
export const pythonWithSdk = async (): Promise<string> => {
  const cache = process.env.AGENT_SANDBOX_CACHE ?? join(homedir(), ".cache", "agent-sandbox")
  const venv = join(cache, `e2b-python-${pythonSdkVersion}`)
  const python = join(venv, "bin", "python")
  const ready = join(venv, ".installed")
  if (existsSync(ready)) return python
  await rm(venv, { recursive: true, force: true })
  await mkdir(cache, { recursive: true })
  await run("python3", ["-m", "venv", venv])
  await run(
    python,
    ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", `e2b==${pythonSdkVersion}`],
    {
      maxBuffer: 16 * 1024 * 1024,
    },
  )
  await run("touch", [ready])
  return python
}
