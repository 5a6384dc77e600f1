import { type ChildProcess, spawn } from "node:child_process"
import { createWriteStream } from "node:fs"
import { join } from "node:path"
import { Effect, type Scope } from "effect"
import {
  awaitReady,
  type OperatorHarnessOptions,
  type RunningOperator,
  serverConfigOf,
} from "./OperatorHarness.ts"

const entry = join(import.meta.dirname, "operator-process.ts")

export interface OperatorProcess extends RunningOperator {
  readonly pid: number
  /** Kills it outright, as a crash or an OOM kill would: no finalizer runs, no Lease is released. */
  readonly kill: Effect.Effect<void>
}

const exited = (child: ChildProcess) =>
  Effect.async<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
  })

/**
 * An operator replica in a child process (Node runs the TypeScript directly); its output goes to
 * `logFile`. Killed with the scope if still running.
 */
export const spawnOperator = (
  options: OperatorHarnessOptions & {
    readonly logFile: string
    /** The cluster to run against (default: $KUBECONFIG), e.g. a chaos suite's own control plane. */
    readonly kubeconfigPath?: string
  },
): Effect.Effect<OperatorProcess, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const log = createWriteStream(options.logFile, { flags: "a" })
        const process_ = spawn(process.execPath, [entry, JSON.stringify(serverConfigOf(options))], {
          env:
            options.kubeconfigPath === undefined
              ? process.env
              : { ...process.env, KUBECONFIG: options.kubeconfigPath },
          stdio: ["ignore", "pipe", "pipe"],
        })
        process_.stdout?.pipe(log)
        process_.stderr?.pipe(log)
        return process_
      }),
      (child) =>
        Effect.sync(() => child.kill("SIGKILL")).pipe(
          Effect.zipRight(exited(child)),
          Effect.timeout("10 seconds"),
          Effect.ignore,
        ),
    )
    const running: OperatorProcess = {
      pid: child.pid ?? 0,
      apiUrl: `http://127.0.0.1:${options.apiPort}`,
      probeUrl: `http://127.0.0.1:${options.probePort}`,
      kill: Effect.sync(() => child.kill("SIGKILL")).pipe(Effect.zipRight(exited(child))),
    }
    yield* awaitReady(running)
    return running
  })
