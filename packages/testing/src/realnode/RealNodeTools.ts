import { spawn } from "node:child_process"
import { Effect } from "effect"
import { RealNodeError } from "./RealNodeError.ts"

const toolsDir = new URL("../../../../tools/", import.meta.url).pathname

/**
 * Runs one of tools/' build scripts (cached after the first run; progress passes through on
 * stderr) and returns the last line it printed: the directory of its results.
 */
const script = (name: string): Effect.Effect<string, RealNodeError> =>
  Effect.async((resume) => {
    const file = `${toolsDir}${name}`
    const child = spawn("bash", [file], { stdio: ["ignore", "pipe", "inherit"] })
    let stdout = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk
    })
    const failed = (message: string) =>
      resume(Effect.fail(new RealNodeError({ reason: "BuildFailed", message })))
    child.once("error", (cause) => failed(`cannot run ${file}: ${cause.message}`))
    child.once("close", (code) =>
      code === 0
        ? resume(Effect.succeed(stdout.trim().split("\n").at(-1)?.trim() ?? ""))
        : failed(`${file} exited with code ${code} (its output is above)`),
    )
    return Effect.sync(() => child.kill("SIGTERM"))
  })

/** runc, the CNI plugins, iptables, nft, ipset, busybox-static, mmdebstrap from Debian. */
export const installPackages = script("realnode/install-packages.sh")
/** kubelet, containerd, ctr, containerd-shim-runc-v2. */
export const binaries = script("realnode/build.sh")
/** pause.tar, base.tar, python.tar (docker archives). */
export const images = script("realnode/images.sh")
/** kube-router (its directory), the NetworkPolicy enforcer a suite may ask the node for. */
export const kubeRouter = script("kube-router/build.sh")
