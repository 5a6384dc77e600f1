/**
 * The parts a `commands.run` is made of, measured on their own: the Kubernetes exec round trip
 * (bench → API server → KWOK → a local process) with the bare `true`, with the command the SDK asks
 * for, and with envd's exact launch script; and the envd HTTP path without any exec (`GET /health`:
 * routing, access token, sandbox lookup).
 */
import { Exec, KubeClient, type KubeConfig, ResourceType } from "@agent-sandbox/kube"
import { Http } from "@agent-sandbox/testing"
import { Effect } from "effect"
import { launchArgv } from "../../packages/envd/src/ShellScript.ts"
import { reasonOf } from "./SdkOperations.ts"

/** Where a sandbox's commands run, and what its data-plane requests must carry. */
export interface SandboxEndpoint {
  readonly sandboxId: string
  readonly namespace: string
  readonly pod: string
  readonly accessToken: string
}

/** The container of the bench pool's template (Pools.createPool of @agent-sandbox/testing/operator). */
const container = "sandbox"

/** The Pod the operator bound the sandbox to (its sandbox-id label), and the envd access token. */
export const endpointOf = (
  namespace: string,
  serverUrl: string,
  key: string,
  sandboxId: string,
): Effect.Effect<SandboxEndpoint, string, KubeClient.KubeClient> =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    const pods = yield* Effect.mapError(
      client.list(ResourceType.Pod, {
        namespace,
        labelSelector: `sandbox.agent-sandbox.dev/sandbox-id=${sandboxId}`,
      }),
      (error) => error.message,
    )
    const pod = pods.items[0]?.metadata?.name
    if (pod === undefined) return yield* Effect.fail(`no Pod carries sandbox ${sandboxId}`)
    const detail = yield* Http.call(`${serverUrl}/sandboxes/${sandboxId}`, { key })
    const accessToken = detail.body?.envdAccessToken
    if (detail.status !== 200 || typeof accessToken !== "string")
      return yield* Effect.fail(`GET /sandboxes/${sandboxId}: ${detail.status}`)
    return { sandboxId, namespace, pod, accessToken }
  })

/** The argv of each bare exec row. */
export const bareCommands = {
  /** The smallest exec there is. */
  true: ["true"],
  /** What the SDK's `commands.run("true")` asks envd to start. */
  sdkCommand: ["/bin/bash", "-l", "-c", "true"],
  /** What envd execs for it: its launch wrapper (cd home, print pid, exec) around the SDK's command. */
  envdLaunch: launchArgv({ cmd: "/bin/bash", args: ["-l", "-c", "true"], cwd: "", stdin: false, tty: false }),
} as const

/** One exec through @agent-sandbox/kube (the same client envd uses), to completion. */
export const bareExec = (
  endpoint: SandboxEndpoint,
  command: ReadonlyArray<string>,
): Effect.Effect<void, string, KubeConfig.KubeConfig> =>
  Exec.execCollect({ namespace: endpoint.namespace, pod: endpoint.pod, container, command }).pipe(
    Effect.mapError((error) => `exec ${error.reason}: ${error.message.slice(0, 100)}`),
    Effect.flatMap((result) =>
      result.exitCode === 0 ? Effect.void : Effect.fail(`exec exit code ${result.exitCode}`),
    ),
  )

/** `GET /health` as the SDK would send it: envd's HTTP, token check and sandbox lookup, no exec. */
export const health = (serverUrl: string, endpoint: SandboxEndpoint): Effect.Effect<void, string> =>
  Effect.tryPromise({
    try: async () => {
      const response = await fetch(`${serverUrl}/health`, {
        headers: { "E2b-Sandbox-Id": endpoint.sandboxId, "X-Access-Token": endpoint.accessToken },
      })
      await response.arrayBuffer()
      return response.status
    },
    catch: reasonOf,
  }).pipe(Effect.flatMap((status) => (status === 204 ? Effect.void : Effect.fail(`HTTP ${status}`))))
