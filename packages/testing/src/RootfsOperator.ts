import { type ChildProcess, spawn } from "node:child_process"
import { chmodSync, copyFileSync } from "node:fs"
import { join } from "node:path"
import { type Duration, Effect, type Scope } from "effect"
import { ControlPlaneError } from "./ControlPlaneError.ts"
import { eventually } from "./Eventually.ts"
import { freePorts } from "./FreePorts.ts"

/** The loopback ports the operator serves on. */
export interface RootfsOperatorPorts {
  readonly probes: number
  readonly api: number
  readonly e2b: number
  readonly metrics: number
}

export interface RootfsOperatorOptions {
  /** The image's unpacked root filesystem; the admin kubeconfig is copied to its /tmp/kubeconfig. */
  readonly rootfs: string
  /**
   * The program and arguments that run the image's entrypoint in the rootfs on this host, without
   * a container runtime: `chroot --userspec <user> <rootfs> <entrypoint>`, or that inside
   * `unshare --user --map-root-user`.
   */
  readonly command: ReadonlyArray<string>
  /** The image config's environment, as `NAME=value` entries. */
  readonly imageEnv: ReadonlyArray<string>
  /** The operator's system namespace and the one namespace it watches. */
  readonly namespace: string
  /** The cluster's admin kubeconfig (default $KUBECONFIG: the suites' shared control plane). */
  readonly kubeconfigPath?: string
  /** How long /healthz may take to answer 200 (default 60 s). */
  readonly healthyWithin?: Duration.DurationInput
}

const exited = (child: ChildProcess) =>
  Effect.async<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
  })

/** The last `limit` characters a process printed: what the failure message shows. */
const outputTail = (child: ChildProcess, limit = 4000) => {
  let text = ""
  const keep = (chunk: Buffer) => {
    text = (text + chunk.toString("utf8")).slice(-limit)
  }
  child.stdout?.on("data", keep)
  child.stderr?.on("data", keep)
  return () => text
}

/**
 * The operator as an image's rootfs runs it (its own glibc, Node and bundle), against the cluster,
 * in one namespace; it succeeds once the operator's /healthz answers 200. The process is killed
 * (SIGKILL) when the scope closes.
 */
export const start = (
  options: RootfsOperatorOptions,
): Effect.Effect<RootfsOperatorPorts, ControlPlaneError, Scope.Scope> =>
  Effect.gen(function* () {
    const [program = "", ...args] = options.command
    const kubeconfig = join(options.rootfs, "tmp/kubeconfig")
    yield* Effect.try({
      try: () => {
        copyFileSync(options.kubeconfigPath ?? process.env.KUBECONFIG ?? "", kubeconfig)
        // Readable by an image's non-root user (the copy keeps the original's 0600).
        chmodSync(kubeconfig, 0o644)
      },
      catch: (cause) =>
        new ControlPlaneError({
          component: "rootfs operator",
          reason: "SetupFailed",
          message: String(cause),
        }),
    })
    const [probes = 0, api = 0, e2b = 0, metrics = 0] = yield* freePorts(4)
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        spawn(program, args, {
          env: {
            ...Object.fromEntries(options.imageEnv.map((entry) => entry.split("=", 2))),
            KUBECONFIG: "/tmp/kubeconfig",
            AGENT_SANDBOX_HOST: "127.0.0.1",
            AGENT_SANDBOX_SYSTEM_NAMESPACE: options.namespace,
            AGENT_SANDBOX_WATCH_NAMESPACE: options.namespace,
            AGENT_SANDBOX_PROBE_PORT: String(probes),
            AGENT_SANDBOX_API_PORT: String(api),
            AGENT_SANDBOX_E2B_PORT: String(e2b),
            AGENT_SANDBOX_METRICS_PORT: String(metrics),
          },
          stdio: ["ignore", "pipe", "pipe"],
        }),
      ),
      (child) => Effect.sync(() => child.kill("SIGKILL")).pipe(Effect.zipRight(exited(child))),
    )
    const output = outputTail(child)
    yield* eventually(
      Effect.tryPromise({
        try: () => fetch(`http://127.0.0.1:${probes}/healthz`),
        catch: (cause) => String(cause),
      }).pipe(Effect.flatMap((r) => (r.ok ? Effect.void : Effect.fail(`healthz ${r.status}`)))),
      { timeout: options.healthyWithin ?? "60 seconds", interval: "250 millis" },
    ).pipe(
      Effect.mapError(
        (last) =>
          new ControlPlaneError({
            component: "rootfs operator",
            reason: "NotReady",
            message: `${options.command.join(" ")}: no healthy /healthz (${last}); its output: ${output()}`,
          }),
      ),
    )
    return { probes, api, e2b, metrics }
  })
