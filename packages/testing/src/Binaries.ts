import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { Config, Effect, Option } from "effect"
import { ControlPlaneError } from "./ControlPlaneError.ts"

export const components = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kwok",
] as const

/** tools/controlplane/build.sh, found from this file so it works from any working directory. */
export const buildScript = new URL("../../../tools/controlplane/build.sh", import.meta.url).pathname

/**
 * Runs build.sh (cached after the first build). Its progress goes to stderr, which we pass through so
 * people see a cold build advance; the last line on stdout is the binaries' directory.
 */
export const build: Effect.Effect<string, ControlPlaneError> = Effect.async((resume) => {
  const child = spawn("bash", [buildScript], { stdio: ["ignore", "pipe", "inherit"] })
  let stdout = ""
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk
  })
  const failed = (message: string) =>
    resume(Effect.fail(new ControlPlaneError({ component: "build", reason: "BuildFailed", message })))
  child.once("error", (cause) => failed(`cannot run ${buildScript}: ${cause.message}`))
  child.once("close", (code) => {
    const dir = stdout.trim().split("\n").at(-1)?.trim() ?? ""
    if (code !== 0) return failed(`${buildScript} exited with code ${code} (its output is above)`)
    if (dir === "") return failed(`${buildScript} printed no directory`)
    resume(Effect.succeed(dir))
  })
  return Effect.sync(() => child.kill("SIGTERM"))
})

const checkBinaries = (dir: string): Effect.Effect<string, ControlPlaneError> => {
  const missing = components.filter((name) => {
    try {
      fs.accessSync(path.join(dir, name), fs.constants.X_OK)
      return false
    } catch {
      return true
    }
  })
  return missing.length === 0
    ? Effect.succeed(dir)
    : Effect.fail(
        new ControlPlaneError({
          component: "build",
          reason: "BuildFailed",
          message: `${dir} lacks executable ${missing.join(", ")}`,
        }),
      )
}

/** Where prebuilt binaries are, when the environment says so. */
export const binDirConfig = Config.option(Config.string("AGENT_SANDBOX_CONTROLPLANE_BIN"))

/** The binaries directory: the explicit one, else $AGENT_SANDBOX_CONTROLPLANE_BIN, else build.sh's. */
export const resolveBinDir = (explicit: string | undefined): Effect.Effect<string, ControlPlaneError> =>
  Effect.gen(function* () {
    if (explicit !== undefined) return yield* checkBinaries(explicit)
    const configured = yield* binDirConfig.pipe(Effect.orElseSucceed(() => Option.none<string>()))
    if (Option.isSome(configured)) return yield* checkBinaries(configured.value)
    return yield* build.pipe(Effect.flatMap(checkBinaries))
  })
