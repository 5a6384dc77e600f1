/**
 * The node agent (packages/node-agent/src/main.ts) as a process on this machine for the real node:
 * root on the host as the DaemonSet's container would be, the containerd socket of the real node,
 * the sandbox-enter helper built by tools/node-agent/build-helper.sh, and the grant key the E2B
 * server made (read from its Secret). Stopped (SIGTERM, so it deletes its Lease) with the scope;
 * `kill` ends it abruptly and `restart` brings it back on the same port.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { KubeClient, ResourceType } from "@agent-sandbox/kube"
import { Effect, Ref, type Scope } from "effect"
import { type ComponentHandle, spawnComponent, stopComponent } from "../ComponentProcess.ts"
import * as Eventually from "../Eventually.ts"
import * as FreePorts from "../FreePorts.ts"

const repoRoot = path.resolve(import.meta.dirname, "../../../..")

export const grantKeySecret = "agent-sandbox-node-agent-grant-key"

export interface NodeAgentProcess {
  /** What the agent advertises in its Lease, e.g. http://127.0.0.1:40111. */
  readonly address: string
  readonly logFile: string
  /** The sandbox-enter binary it runs (to find its entered processes on the host). */
  readonly helper: string
  /** Where its containers' entered processes listen (their SOCKET argument starts with it). */
  readonly socketDir: string
  /** The agent's pid while it runs (for its CPU time), undefined when stopped. */
  readonly pid: Effect.Effect<number | undefined>
  /** SIGKILL: no Lease deletion, connections cut mid-request. */
  readonly kill: Effect.Effect<void>
  /** SIGTERM: the agent deletes its Lease and exits. */
  readonly stop: Effect.Effect<void>
  /** Starts it again (after `kill` or `stop`) and waits until it answers. */
  readonly restart: Effect.Effect<void, unknown>
}

export interface NodeAgentProcessOptions {
  readonly nodeName: string
  readonly systemNamespace: string
  readonly criSocket: string
  readonly logFile: string
  /** The agent's cluster credentials (default: $KUBECONFIG). */
  readonly kubeconfig?: string
  /** Extra flags for node before the agent's entry point (e.g. --cpu-prof for a profile). */
  readonly nodeArgs?: ReadonlyArray<string>
}

export const buildHelper = Effect.sync(() =>
  execFileSync(path.join(repoRoot, "tools/node-agent/build-helper.sh"), { encoding: "utf8" }).trim(),
)

export const start = (
  options: NodeAgentProcessOptions,
): Effect.Effect<NodeAgentProcess, unknown, KubeClient.KubeClient | Scope.Scope> =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    const helper = yield* buildHelper
    // The E2B server makes the key at start; wait for it as an agent's mounted Secret would.
    const secret = yield* Eventually.eventually(
      client.get(ResourceType.Secret, grantKeySecret, { namespace: options.systemNamespace }),
      { timeout: "60 seconds" },
    )
    const [port] = yield* FreePorts.freePorts(1)
    // Where its containers' entered processes listen: this agent's own, kept across restarts.
    const socketDir = yield* Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(path.join(os.tmpdir(), "node-agent-"))),
      (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true })),
    )
    const address = `http://127.0.0.1:${port}`
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      KUBECONFIG: options.kubeconfig ?? process.env.KUBECONFIG ?? "",
      AGENT_SANDBOX_NODE_NAME: options.nodeName,
      AGENT_SANDBOX_SYSTEM_NAMESPACE: options.systemNamespace,
      AGENT_SANDBOX_NODE_AGENT_HOST: "127.0.0.1",
      AGENT_SANDBOX_NODE_AGENT_PORT: String(port),
      AGENT_SANDBOX_CRI_SOCKET: options.criSocket,
      AGENT_SANDBOX_NODE_AGENT_HELPER: helper,
      AGENT_SANDBOX_NODE_AGENT_SOCKET_DIR: socketDir,
      AGENT_SANDBOX_NODE_AGENT_GRANT_KEY: secret.data?.key ?? "",
    }
    const launch = Effect.gen(function* () {
      const handle = yield* spawnComponent(
        {
          name: "node-agent",
          command: process.execPath,
          args: [...(options.nodeArgs ?? []), path.join(repoRoot, "packages/node-agent/src/main.ts")],
          env,
          logFile: options.logFile,
        },
        { detached: false },
      )
      yield* Eventually.eventually(
        Effect.tryPromise(() => fetch(`${address}/agent/healthz`)).pipe(
          Effect.flatMap((response) => (response.ok ? Effect.void : Effect.fail(response.status))),
        ),
        { timeout: "60 seconds" },
      )
      return handle
    })
    const running = yield* Ref.make<ComponentHandle | undefined>(yield* launch)
    yield* Effect.addFinalizer(() =>
      Effect.flatMap(Ref.get(running), (handle) =>
        handle === undefined ? Effect.void : stopComponent(handle),
      ),
    )
    const kill = Effect.flatMap(Ref.getAndSet(running, undefined), (handle) =>
      handle === undefined
        ? Effect.void
        : Effect.flatMap(
            Effect.sync(() => process.kill(handle.pid, "SIGKILL")),
            () => handle.exited,
          ),
    )
    return {
      address,
      logFile: options.logFile,
      helper,
      socketDir,
      pid: Effect.map(Ref.get(running), (handle) => handle?.pid),
      kill: Effect.asVoid(kill),
      stop: Effect.flatMap(Ref.getAndSet(running, undefined), (handle) =>
        handle === undefined ? Effect.void : stopComponent(handle),
      ),
      // Only when it is not running: a second agent could not bind the port.
      restart: Effect.flatMap(Ref.get(running), (current) =>
        current === undefined ? Effect.flatMap(launch, (handle) => Ref.set(running, handle)) : Effect.void,
      ),
    }
  })
