import { type ChildProcess, spawn } from "node:child_process"
import { chmodSync, copyFileSync } from "node:fs"
import { join } from "node:path"
import { type Duration, Effect, type Scope } from "effect"
import { ControlPlaneError } from "./ControlPlaneError.ts"
import { eventually } from "./Eventually.ts"
import { freePorts } from "./FreePorts.ts"

export interface RootfsNodeAgentOptions {
  /** The node agent image's unpacked root filesystem; the admin kubeconfig is copied to its /tmp/kubeconfig. */
  readonly rootfs: string
  /**
   * The program and arguments that run the image's entrypoint in the rootfs on this host, without
   * a container runtime: `unshare --user --map-root-user chroot <rootfs> <entrypoint>`.
   */
  readonly command: ReadonlyArray<string>
  /** The image config's environment, as `NAME=value` entries. */
  readonly imageEnv: ReadonlyArray<string>
  /** The node name the agent serves (its Lease is node-agent-<name>). */
  readonly nodeName: string
  /** Where its Lease goes (the operator's system namespace). */
  readonly namespace: string
  /** The grant key, base64 (the chart's Secret). */
  readonly grantKey: string
  /** The cluster's admin kubeconfig (default $KUBECONFIG: the suites' shared control plane). */
  readonly kubeconfigPath?: string
  /** How long /agent/healthz may take to answer 200 (default 60 s). */
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
 * The node agent as its image's rootfs runs it (its own glibc, Node and bundle), against the
 * cluster, with the environment the chart's DaemonSet gives it (loopback instead of the node's IP);
 * it succeeds once /agent/healthz (the DaemonSet's readiness probe) answers 200, and returns the
 * port. The process is killed (SIGKILL) when the scope closes.
 */
export const start = (
  options: RootfsNodeAgentOptions,
): Effect.Effect<number, ControlPlaneError, Scope.Scope> =>
  Effect.gen(function* () {
    const [program = "", ...args] = options.command
    yield* Effect.try({
      try: () => {
        const kubeconfig = join(options.rootfs, "tmp/kubeconfig")
        copyFileSync(options.kubeconfigPath ?? process.env.KUBECONFIG ?? "", kubeconfig)
        chmodSync(kubeconfig, 0o644)
      },
      catch: (cause) =>
        new ControlPlaneError({
          component: "rootfs node agent",
          reason: "SetupFailed",
          message: String(cause),
        }),
    })
    const [port = 0] = yield* freePorts(1)
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        spawn(program, args, {
          env: {
            ...Object.fromEntries(options.imageEnv.map((entry) => entry.split("=", 2))),
            KUBECONFIG: "/tmp/kubeconfig",
            AGENT_SANDBOX_NODE_NAME: options.nodeName,
            AGENT_SANDBOX_NODE_AGENT_HOST: "127.0.0.1",
            AGENT_SANDBOX_NODE_AGENT_PORT: String(port),
            AGENT_SANDBOX_SYSTEM_NAMESPACE: options.namespace,
            // No runtime here: the socket is only dialled when a sandbox is entered.
            AGENT_SANDBOX_CRI_SOCKET: "/run/cri/cri.sock",
            AGENT_SANDBOX_NODE_AGENT_HELPER: "/usr/local/bin/sandbox-enter",
            AGENT_SANDBOX_NODE_AGENT_SOCKET_DIR: "/tmp/node-agent",
            AGENT_SANDBOX_NODE_AGENT_GRANT_KEY: options.grantKey,
          },
          stdio: ["ignore", "pipe", "pipe"],
        }),
      ),
      (child) => Effect.sync(() => child.kill("SIGKILL")).pipe(Effect.zipRight(exited(child))),
    )
    const output = outputTail(child)
    yield* eventually(
      Effect.tryPromise({
        try: () => fetch(`http://127.0.0.1:${port}/agent/healthz`),
        catch: (cause) => String(cause),
      }).pipe(Effect.flatMap((r) => (r.ok ? Effect.void : Effect.fail(`healthz ${r.status}`)))),
      { timeout: options.healthyWithin ?? "60 seconds", interval: "250 millis" },
    ).pipe(
      Effect.mapError(
        (last) =>
          new ControlPlaneError({
            component: "rootfs node agent",
            reason: "NotReady",
            message: `${options.command.join(" ")}: no healthy /agent/healthz (${last}); its output: ${output()}`,
          }),
      ),
    )
    return port
  })
