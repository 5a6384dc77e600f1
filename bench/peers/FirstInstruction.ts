/**
 * Time to first instruction: from asking for a sandbox to the output of its first command, as each
 * system's users reach it.
 * - Ours: the unchanged E2B JS SDK, `Sandbox.create(pool)` then `commands.run('echo ok')` (envd over
 *   the operator's E2B server; the command runs through a Kubernetes exec on KWOK).
 * - The peer: a SandboxClaim until its Ready condition (watch), then a Kubernetes exec of `echo ok`
 *   into the claimed Pod (@agent-sandbox/kube Exec, what kubectl exec does).
 * Each sample checks the output is `ok`. The sandbox is given back afterwards, untimed.
 */
import { Exec, type KubeClient } from "@agent-sandbox/kube"
import { Sandbox } from "e2b"
import { Effect } from "effect"
import { reasonOf } from "../e2b/SdkOperations.ts"
import { claimRound, releaseRound } from "./PeerClaims.ts"

export interface FirstInstruction {
  /** Milliseconds from the request to the command's output. */
  readonly millis: number
  /** Gives the sandbox back (untimed). */
  readonly release: Effect.Effect<void, unknown, KubeClient.KubeClient>
}

const sdk = <A>(run: () => Promise<A>): Effect.Effect<A, string> =>
  Effect.tryPromise({ try: run, catch: reasonOf })

/** Ours, through the E2B SDK (its environment points at the operator's E2B server). */
export const ours = (pool: string): Effect.Effect<FirstInstruction, string> =>
  Effect.gen(function* () {
    const t0 = performance.now()
    const sandbox = yield* sdk(() => Sandbox.create(pool, { timeoutMs: 600_000 }))
    const output = yield* sdk(() => sandbox.commands.run("echo ok"))
    const millis = performance.now() - t0
    if (output.stdout.trim() !== "ok") return yield* Effect.fail(`stdout ${JSON.stringify(output.stdout)}`)
    return { millis, release: Effect.asVoid(sdk(() => sandbox.kill())) }
  })

/**
 * The peer's: claim → Ready (the watch is opened before the clock starts, as a client holding one
 * would), then an exec into the claimed Pod, which v1.0.1 names after its Sandbox (the claim's
 * status.sandbox.name; controllers/sandbox_controller.go resolvePodName).
 */
export const peer = (namespace: string, pool: string, index: number) =>
  Effect.gen(function* () {
    const round = `tffi-${index}`
    const claimed = yield* claimRound({
      namespace,
      pool,
      round,
      count: 1,
      concurrency: 1,
      timeLimit: "1 minute",
    })
    const readyAt = performance.now()
    const [name, claim] = [...claimed.ready][0] ?? []
    const claimMillis = claimed.result.latencies[0]
    if (name === undefined || claim === undefined || claimMillis === undefined)
      return yield* Effect.fail(`claim failed: ${[...claimed.result.failures.keys()].join(", ")}`)
    const pod = claim.status?.sandbox?.name
    if (pod === undefined) return yield* Effect.fail("a Ready claim without status.sandbox.name")
    const output = yield* Exec.execCollect({
      namespace,
      pod,
      container: "sandbox",
      command: ["echo", "ok"],
    }).pipe(Effect.mapError((e) => `exec ${e.reason}: ${e.message.slice(0, 100)}`))
    const millis = claimMillis + (performance.now() - readyAt)
    const release = Effect.asVoid(releaseRound({ namespace, round, names: [name], concurrency: 1 }))
    if (output.exitCode !== 0 || output.stdout.trim() !== "ok")
      return yield* Effect.zipRight(
        Effect.ignore(release),
        Effect.fail(`exec exit ${output.exitCode}, stdout ${JSON.stringify(output.stdout)}`),
      )
    return { millis, release } satisfies FirstInstruction
  })
