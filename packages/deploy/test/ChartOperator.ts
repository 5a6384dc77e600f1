import { type ChildProcess, spawn } from "node:child_process"
import { createWriteStream } from "node:fs"
import { join } from "node:path"
import { Eventually } from "@agent-sandbox/testing"
import { Effect } from "effect"
import type { Rendered } from "./ChartFiles.ts"

const mainTs = join(import.meta.dirname, "../../server/src/main.ts")

export interface Ports {
  readonly api: number
  readonly probes: number
  readonly e2b: number
  readonly metrics: number
}

/**
 * The environment the chart's Deployment gives the operator container, as the kubelet would
 * resolve it (a fieldRef to the Pod's name becomes `podName`), with loopback ports for this host.
 */
export const containerEnvironment = (
  deployment: Rendered,
  podName: string,
  ports: Ports,
): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const entry of deployment.spec.template.spec.containers[0].env as ReadonlyArray<{
    name: string
    value?: string
    valueFrom?: { fieldRef?: { fieldPath: string } }
  }>) {
    if (entry.value !== undefined) env[entry.name] = String(entry.value)
    else if (entry.valueFrom?.fieldRef?.fieldPath === "metadata.name") env[entry.name] = podName
    else throw new Error(`env ${entry.name}: no value this test can resolve`)
  }
  return {
    ...env,
    AGENT_SANDBOX_HOST: "127.0.0.1",
    AGENT_SANDBOX_API_PORT: String(ports.api),
    AGENT_SANDBOX_PROBE_PORT: String(ports.probes),
    AGENT_SANDBOX_E2B_PORT: String(ports.e2b),
    AGENT_SANDBOX_METRICS_PORT: String(ports.metrics),
  }
}

const exited = (child: ChildProcess) =>
  Effect.async<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
  })

/**
 * The operator's entry point (packages/server/src/main.ts) in a child process, with only the given
 * environment and KUBECONFIG: nothing of this test's own credentials; its output goes to logFile.
 * Stopped with the scope (SIGTERM, then SIGKILL after 10 s).
 */
export const startOperator = (options: {
  readonly env: Record<string, string>
  readonly kubeconfig: string
  readonly logFile: string
}) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const log = createWriteStream(options.logFile, { flags: "a" })
      const child = spawn(process.execPath, [mainTs], {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...options.env, KUBECONFIG: options.kubeconfig },
        stdio: ["ignore", "pipe", "pipe"],
      })
      child.stdout?.pipe(log)
      child.stderr?.pipe(log)
      return child
    }),
    (child) =>
      Effect.sync(() => child.kill("SIGTERM")).pipe(
        Effect.zipRight(exited(child).pipe(Effect.timeout("10 seconds"))),
        Effect.orElse(() => Effect.sync(() => child.kill("SIGKILL")).pipe(Effect.zipRight(exited(child)))),
        Effect.ignore,
      ),
  )

/** startOperator, then waits until its /readyz answers 200. */
export const spawnOperator = (options: {
  readonly env: Record<string, string>
  readonly kubeconfig: string
  readonly logFile: string
  readonly probePort: number
}) =>
  Effect.gen(function* () {
    yield* startOperator(options)
    yield* Eventually.eventually(
      Effect.flatMap(
        Effect.tryPromise(() => fetch(`http://127.0.0.1:${options.probePort}/readyz`)),
        (r) => (r.ok ? Effect.void : Effect.fail("not ready")),
      ),
      { timeout: "60 seconds", interval: "200 millis" },
    )
  })
