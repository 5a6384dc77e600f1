import { type ChildProcess, spawn } from "node:child_process"
import { closeSync, openSync, readFileSync } from "node:fs"
import { join } from "node:path"
import type { KubeConfig } from "@agent-sandbox/kube"
import { FreePorts } from "@agent-sandbox/testing"
import { OperatorHarness } from "@agent-sandbox/testing/operator"
import { Data, Duration, Effect, type Scope } from "effect"

const repoRoot = join(import.meta.dirname, "../..")

/** Where the operator under test answers, and how to find its process. */
export interface RunningOperator {
  readonly apiUrl: string
  readonly probeUrl: string
  /** The operator's own process; undefined when it runs inside the benchmark's process. */
  readonly pid: number | undefined
  readonly description: string
}

export interface OperatorOptions {
  readonly kubeconfigPath: string
  /** The pools' namespace: watched, and the default of requests. */
  readonly namespace: string
  readonly systemNamespace: string
  readonly apiPort: number
  readonly probePort: number
  /** The child's stdout and stderr. */
  readonly logFile: string
  /** Write a V8 CPU profile of the operator here when it exits (node --cpu-prof). */
  readonly cpuProfileDir?: string | undefined
  /** Extra node flags for the child (e.g. --max-semi-space-size=16). */
  readonly nodeArgs?: ReadonlyArray<string> | undefined
  /** The script to run; default packages/server/src/main.ts (e.g. a bundle of it instead). */
  readonly entry?: string | undefined
  /** More environment for the child, after the settings above (e.g. AGENT_SANDBOX_E2B_PORT). */
  readonly env?: Readonly<Record<string, string>> | undefined
}

export class OperatorStartError extends Data.TaggedError("OperatorStartError")<{
  readonly message: string
}> {}

const logTail = (file: string) => {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-30).join("\n")
  } catch {
    return "(no log)"
  }
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once("exit", () => resolve())
  })

/** Stops the child politely (the runtime interrupts its fibers on SIGTERM, and --cpu-prof writes then). */
const stop = (child: ChildProcess) =>
  Effect.promise(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill("SIGTERM")
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000)
    await exited(child)
    clearTimeout(timer)
  })

const awaitReady = (probeUrl: string, child: ChildProcess | undefined, logFile: string | undefined) =>
  Effect.gen(function* () {
    const deadline = Date.now() + 120_000
    while (Date.now() < deadline) {
      if (child !== undefined && (child.exitCode !== null || child.signalCode !== null)) {
        return yield* new OperatorStartError({
          message: `the operator exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${logFile === undefined ? "" : logTail(logFile)}`,
        })
      }
      const ready = yield* Effect.promise(() =>
        fetch(`${probeUrl}/readyz`).then(
          (r) => r.ok,
          () => false,
        ),
      )
      if (ready) return
      yield* Effect.sleep(Duration.millis(200))
    }
    return yield* new OperatorStartError({
      message: `the operator was not ready within 120 s:\n${logFile === undefined ? "" : logTail(logFile)}`,
    })
  })

/**
 * The operator as it ships: `node packages/server/src/main.ts` in a process of its own, configured
 * through its environment, on loopback. Stopped (SIGTERM) when the scope closes.
 */
export const spawnOperator = (
  options: OperatorOptions,
): Effect.Effect<RunningOperator, OperatorStartError, Scope.Scope> =>
  Effect.gen(function* () {
    const profiling =
      options.cpuProfileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`]
    // The E2B server listens too: on a free port, never a fixed one another run may hold.
    const [e2bPort] = yield* Effect.orDie(FreePorts.freePorts(1))
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const log = openSync(options.logFile, "a")
        const entry = options.entry ?? join(repoRoot, "packages/server/src/main.ts")
        const process_ = spawn(process.execPath, [...(options.nodeArgs ?? []), ...profiling, entry], {
          cwd: repoRoot,
          stdio: ["ignore", log, log],
          env: {
            ...process.env,
            KUBECONFIG: options.kubeconfigPath,
            AGENT_SANDBOX_SYSTEM_NAMESPACE: options.systemNamespace,
            AGENT_SANDBOX_WATCH_NAMESPACE: options.namespace,
            AGENT_SANDBOX_DEFAULT_NAMESPACE: options.namespace,
            AGENT_SANDBOX_REPLICA_ID: "bench-operator",
            AGENT_SANDBOX_HOST: "127.0.0.1",
            AGENT_SANDBOX_API_PORT: String(options.apiPort),
            AGENT_SANDBOX_PROBE_PORT: String(options.probePort),
            AGENT_SANDBOX_E2B_PORT: String(e2bPort),
            ...options.env,
          },
        })
        closeSync(log)
        return process_
      }),
      stop,
    )
    const probeUrl = `http://127.0.0.1:${options.probePort}`
    yield* awaitReady(probeUrl, child, options.logFile)
    return {
      apiUrl: `http://127.0.0.1:${options.apiPort}`,
      probeUrl,
      pid: child.pid,
      description: `child process (node ${[...(options.nodeArgs ?? []), options.entry ?? "packages/server/src/main.ts"].join(" ")}, pid ${child.pid}, log ${options.logFile})`,
    }
  })

/** The same operator layers inside the benchmark's own process (the REST tests' harness). */
export const inProcessOperator = (
  options: OperatorOptions,
): Effect.Effect<RunningOperator, unknown, Scope.Scope | KubeConfig.KubeConfig> =>
  Effect.map(
    OperatorHarness.startOperator({
      namespace: options.namespace,
      systemNamespace: options.systemNamespace,
      apiPort: options.apiPort,
      probePort: options.probePort,
      replicaId: "bench-operator",
      maxWaitMillis: 30_000,
      waitCapacity: 2_000,
    }),
    (running) => ({
      ...running,
      pid: undefined,
      description:
        "in the benchmark's process (OperatorHarness.startOperator of @agent-sandbox/testing/operator)",
    }),
  )
