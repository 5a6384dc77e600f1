import { type Duration, Effect, type Scope } from "effect"
import type { ControlPlaneError } from "./ControlPlaneError.ts"
import { freePorts } from "./FreePorts.ts"
import * as RootfsProcess from "./RootfsProcess.ts"

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

/**
 * The operator as an image's rootfs runs it (its own glibc, Node and bundle), against the cluster,
 * in one namespace; it succeeds once the operator's /healthz answers 200. The process is killed
 * (SIGKILL) when the scope closes.
 */
export const start = (
  options: RootfsOperatorOptions,
): Effect.Effect<RootfsOperatorPorts, ControlPlaneError, Scope.Scope> =>
  Effect.gen(function* () {
    const [probes = 0, api = 0, e2b = 0, metrics = 0] = yield* freePorts(4)
    yield* RootfsProcess.start({
      component: "rootfs operator",
      rootfs: options.rootfs,
      command: options.command,
      imageEnv: options.imageEnv,
      kubeconfigPath: options.kubeconfigPath,
      env: {
        AGENT_SANDBOX_HOST: "127.0.0.1",
        AGENT_SANDBOX_SYSTEM_NAMESPACE: options.namespace,
        AGENT_SANDBOX_WATCH_NAMESPACE: options.namespace,
        AGENT_SANDBOX_PROBE_PORT: String(probes),
        AGENT_SANDBOX_API_PORT: String(api),
        AGENT_SANDBOX_E2B_PORT: String(e2b),
        AGENT_SANDBOX_METRICS_PORT: String(metrics),
      },
      readyUrl: `http://127.0.0.1:${probes}/healthz`,
      readyWithin: options.healthyWithin,
    })
    return { probes, api, e2b, metrics }
  })
