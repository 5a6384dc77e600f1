import { type Duration, Effect, type Scope } from "effect"
import type { ControlPlaneError } from "./ControlPlaneError.ts"
import { freePorts } from "./FreePorts.ts"
import * as RootfsProcess from "./RootfsProcess.ts"

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
    const [port = 0] = yield* freePorts(1)
    yield* RootfsProcess.start({
      component: "rootfs node agent",
      rootfs: options.rootfs,
      command: options.command,
      imageEnv: options.imageEnv,
      kubeconfigPath: options.kubeconfigPath,
      env: {
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
      readyUrl: `http://127.0.0.1:${port}/agent/healthz`,
      readyWithin: options.healthyWithin,
    })
    return port
  })
