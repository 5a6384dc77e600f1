/**
 * The peer, sigs.k8s.io/agent-sandbox's controller, unchanged: built from the Go module proxy by
 * tools/peers/build.sh (cached), its CRDs installed from the same module version, and run as a
 * process of its own against the benchmark's control plane with the admin kubeconfig.
 */
import { spawn } from "node:child_process"
import { readdir, readFile } from "node:fs/promises"
import { join } from "node:path"
import { KubeClient, ResourceType } from "@agent-sandbox/kube"
import { ComponentProcess } from "@agent-sandbox/testing"
import { Data, Duration, Effect, Option, Schedule, type Scope } from "effect"
import type { CustomResourceDefinition } from "kubernetes-types/apiextensions/v1.js"
import { parse } from "yaml"

export class PeerError extends Data.TaggedError("PeerError")<{
  readonly reason: "BuildFailed" | "CrdInstallFailed" | "StartFailed"
  readonly message: string
}> {}

export const buildScript = join(import.meta.dirname, "../../tools/peers/build.sh")

/** Runs tools/peers/build.sh (cached after the first build); its progress goes to our stderr. */
export const build: Effect.Effect<string, PeerError> = Effect.async((resume) => {
  const child = spawn("bash", [buildScript], { stdio: ["ignore", "pipe", "inherit"] })
  let stdout = ""
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk
  })
  const failed = (message: string) => resume(Effect.fail(new PeerError({ reason: "BuildFailed", message })))
  child.once("error", (cause) => failed(`cannot run ${buildScript}: ${cause.message}`))
  child.once("close", (code) => {
    const dir = stdout.trim().split("\n").at(-1)?.trim() ?? ""
    if (code !== 0) return failed(`${buildScript} exited with code ${code} (its output is above)`)
    if (dir === "") return failed(`${buildScript} printed no directory`)
    resume(Effect.succeed(dir))
  })
  return Effect.sync(() => child.kill("SIGTERM"))
})

const established = (crd: CustomResourceDefinition) =>
  crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") ?? false

/** Applies the peer's CRDs (the module's k8s/crds, copied beside the binary) and waits until they are served. */
export const installCrds = (peerDir: string) =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    const dir = join(peerDir, "crds")
    const files = (yield* Effect.promise(() => readdir(dir))).filter((f) => f.endsWith(".yaml"))
    for (const file of files) {
      const crd = parse(
        yield* Effect.promise(() => readFile(join(dir, file), "utf8")),
      ) as CustomResourceDefinition
      yield* client.apply(ResourceType.CustomResourceDefinition, crd as unknown as KubeClient.ApplyObject, {
        force: true,
        fieldManager: "agent-sandbox-bench",
      })
      yield* client.get(ResourceType.CustomResourceDefinition, crd.metadata?.name ?? "").pipe(
        Effect.filterOrFail(established, () => `${crd.metadata?.name} is not established yet`),
        Effect.retry(Schedule.spaced(Duration.millis(100)).pipe(Schedule.upTo(Duration.seconds(30)))),
      )
    }
  }).pipe(
    Effect.mapError(
      (cause) =>
        new PeerError({
          reason: "CrdInstallFailed",
          message: typeof cause === "string" ? cause : `${cause._tag}: ${cause.message}`,
        }),
    ),
  )

export interface PeerOptions {
  readonly peerDir: string
  readonly kubeconfigPath: string
  /** Where its leader-election Lease lives (it cannot detect a namespace outside a cluster). */
  readonly leaseNamespace: string
  readonly metricsPort: number
  readonly probePort: number
  readonly logFile: string
  /** Flags after the deployment's own (`--leader-elect=true --extensions`), e.g. worker counts. */
  readonly extraArgs: ReadonlyArray<string>
}

export interface RunningPeer {
  readonly pid: number
  readonly args: ReadonlyArray<string>
  readonly description: string
}

/**
 * The flags of the peer's own extensions Deployment (k8s/extensions.controller.yaml:
 * `--leader-elect=true --extensions`), plus what running outside a cluster needs: the Lease's
 * namespace and loopback addresses for its metrics and probes. Everything else keeps its defaults.
 */
export const peerArgs = (options: PeerOptions): ReadonlyArray<string> => [
  "--leader-elect=true",
  "--extensions",
  `--leader-election-namespace=${options.leaseNamespace}`,
  `--metrics-bind-address=127.0.0.1:${options.metricsPort}`,
  `--health-probe-bind-address=127.0.0.1:${options.probePort}`,
  ...options.extraArgs,
]

const probe = (url: string) =>
  Effect.promise(() =>
    fetch(url).then(
      (r) => r.ok,
      () => false,
    ),
  )

/** Starts the peer and waits until it is ready and leads (its claim controllers run only then). */
export const start = (options: PeerOptions): Effect.Effect<RunningPeer, PeerError, Scope.Scope> =>
  Effect.gen(function* () {
    const command = join(options.peerDir, "agent-sandbox-controller")
    const args = peerArgs(options)
    const handle = yield* Effect.acquireRelease(
      ComponentProcess.spawnComponent(
        {
          name: "agent-sandbox-controller",
          command,
          args,
          env: { KUBECONFIG: options.kubeconfigPath, PATH: process.env.PATH ?? "/usr/bin:/bin" },
          logFile: options.logFile,
        },
        { detached: false },
      ).pipe(Effect.mapError((e) => new PeerError({ reason: "StartFailed", message: e.message }))),
      (h) => ComponentProcess.stopComponent(h),
    )
    const deadline = Date.now() + 120_000
    // Ready, then leading: its claim controllers run only on the leader (its log says when).
    const ready = probe(`http://127.0.0.1:${options.probePort}/readyz`)
    const leading = Effect.promise(() =>
      readFile(options.logFile, "utf8").then((log) => /successfully acquired lease/i.test(log)),
    )
    for (const [what, check] of [
      ["ready", ready],
      ["leading (its Lease acquired)", leading],
    ] as const) {
      while (!(yield* check)) {
        const ended = yield* Effect.timeoutOption(handle.exited, Duration.zero)
        if (Option.isSome(ended))
          return yield* new PeerError({
            reason: "StartFailed",
            message: `exited (${ended.value}) before it was ${what}:\n${ComponentProcess.logTail(options.logFile)}`,
          })
        if (Date.now() > deadline)
          return yield* new PeerError({
            reason: "StartFailed",
            message: `not ${what} within 120 s:\n${ComponentProcess.logTail(options.logFile)}`,
          })
        yield* Effect.sleep(Duration.millis(200))
      }
    }
    return {
      pid: handle.pid,
      args,
      description: `${command} ${args.join(" ")} (pid ${handle.pid}, log ${options.logFile})`,
    }
  })
