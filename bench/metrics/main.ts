/**
 * npm run bench:metrics — what metrics cost per allocation, in one run on a local control plane:
 * two follower replicas of the operator (same role: a third replica leads and refills the pool),
 * one with metrics on (recorded, served on :8082 and scraped once per round, like a 15 s scrape
 * interval over a round's claims) and one with AGENT_SANDBOX_METRICS=off (nothing recorded or
 * served). Rounds alternate on/off in an ABBA order so drift of the shared host falls on both; each
 * round allocates the same number of sandboxes through one of them and counts that process's CPU
 * time and its callers' latencies. Then the instruments alone, in this process (Instruments.ts).
 *
 *   ./dev npm run bench:metrics [-- --count 200 --concurrency 8 --rounds 6]
 */

import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { ControlPlane, FreePorts } from "@agent-sandbox/testing"
import { OperatorHarness, OperatorNamespaces } from "@agent-sandbox/testing/operator"
import { NodeRuntime } from "@effect/platform-node"
import { Duration, Effect } from "effect"
import { allocate, release } from "../allocation/AllocationLoad.ts"
import * as BenchCluster from "../support/BenchCluster.ts"
import { codeVersion, describeHost, hostLine } from "../support/Host.ts"
import { failureText } from "../support/LoadLoop.ts"
import { progress, stderrLogger } from "../support/Log.ts"
import { type RunningOperator, spawnOperator } from "../support/OperatorProcess.ts"
import { cpuMillis } from "../support/ProcessStats.ts"
import { percentile } from "../support/Stats.ts"
import { awaitWarm, createBenchPool } from "../support/WarmPool.ts"
import { instrumentCost } from "./Instruments.ts"

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    count: { type: "string", default: "200" },
    concurrency: { type: "string", default: "8" },
    rounds: { type: "string", default: "6" },
  },
})
const count = Number(values.count)
const concurrency = Number(values.concurrency)
/** Rounds per replica; an even number keeps the ABBA order balanced. */
const rounds = Number(values.rounds)
const poolName = "bench"

type Mode = "on" | "off"

interface Round {
  readonly cpuMillis: number
  readonly latencies: ReadonlyArray<number>
  readonly failures: string
}

const program = Effect.gen(function* () {
  const host = describeHost()
  progress(`${hostLine(host)}; ${codeVersion()}`)
  const controlPlane = yield* ControlPlane.ControlPlane
  const { namespace, system } = yield* OperatorNamespaces.make("bench-metrics")
  yield* createBenchPool(namespace, poolName, count)
  const key = yield* OperatorHarness.mintKey(system, "bench")
  const workDir = mkdtempSync(join(tmpdir(), "agent-sandbox-bench-metrics-"))

  const start = (name: string, env: Record<string, string>) =>
    Effect.gen(function* () {
      const [apiPort, probePort, metricsPort] = yield* FreePorts.freePorts(3)
      const operator = yield* spawnOperator({
        kubeconfigPath: controlPlane.kubeconfigPath,
        namespace,
        systemNamespace: system,
        apiPort: apiPort!,
        probePort: probePort!,
        logFile: join(workDir, `${name}.log`),
        env: { AGENT_SANDBOX_REPLICA_ID: name, AGENT_SANDBOX_METRICS_PORT: String(metricsPort), ...env },
      })
      progress(`${name} ready: ${operator.description}`)
      return { operator, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` }
    })
  const warm = (operator: RunningOperator) =>
    awaitWarm({
      namespace,
      pool: poolName,
      minIdle: count,
      operatorView: true,
      apiUrl: operator.apiUrl,
      adminKey: key,
      timeout: Duration.minutes(5),
    })

  // The leader starts first and takes the Lease; the measured replicas then follow.
  const leader = yield* start("leader", {})
  yield* warm(leader.operator)
  const replicas: Record<Mode, { operator: RunningOperator; metricsUrl: string }> = {
    on: yield* start("metrics-on", { AGENT_SANDBOX_METRICS: "on" }),
    off: yield* start("metrics-off", { AGENT_SANDBOX_METRICS: "off" }),
  }
  const scrape = (mode: Mode) =>
    mode === "on"
      ? Effect.promise(() => fetch(replicas.on.metricsUrl).then((r) => r.text()))
      : Effect.succeed("")

  const round = (mode: Mode, measured: boolean) =>
    Effect.gen(function* () {
      const { operator } = replicas[mode]
      yield* warm(operator)
      const target = { apiUrl: operator.apiUrl, key, pool: poolName }
      const pid = operator.pid ?? 0
      const cpu0 = cpuMillis(pid) ?? 0
      const run = yield* allocate(target, { count, concurrency, timeLimit: Duration.minutes(2) })
      yield* scrape(mode)
      const cpu1 = cpuMillis(pid) ?? 0
      yield* release(target, run.sandboxIds, 16)
      if (measured)
        progress(
          `metrics ${mode}: ${run.result.latencies.length} allocations, ${(cpu1 - cpu0).toFixed(0)} ms CPU`,
        )
      return { cpuMillis: cpu1 - cpu0, latencies: run.result.latencies, failures: failureText(run.result) }
    })

  // Warm-up of both (JIT, caches, connections), not measured.
  yield* round("on", false)
  yield* round("off", false)
  const results: Record<Mode, Array<Round>> = { on: [], off: [] }
  for (let r = 0; r < rounds; r++) {
    const order: ReadonlyArray<Mode> = r % 2 === 0 ? ["on", "off"] : ["off", "on"]
    for (const mode of order) results[mode].push(yield* round(mode, true))
  }

  const exposition = yield* scrape("on")
  const summary = (mode: Mode) => {
    const all = results[mode]
    const latencies = all.flatMap((r) => r.latencies).sort((a, b) => a - b)
    const perAllocation = all.map((r) => r.cpuMillis / Math.max(1, r.latencies.length)).sort((a, b) => a - b)
    const total = all.reduce((n, r) => n + r.cpuMillis, 0) / Math.max(1, latencies.length)
    return `| ${mode} | ${latencies.length} | ${total.toFixed(3)} | ${percentile(perAllocation, 0.5).toFixed(3)} | ${percentile(latencies, 0.5).toFixed(2)} | ${percentile(latencies, 0.99).toFixed(2)} | ${[...new Set(all.map((r) => r.failures))].join("; ")} |`
  }
  const instruments = yield* instrumentCost
  process.stdout.write(
    [
      `# Metrics on vs off (${host.startedAt})`,
      "",
      `Host: ${hostLine(host)}.`,
      `Two follower replicas of the operator from its sources (node packages/server/src/main.ts), a third one leading and refilling a pool of ${count}; ${rounds} rounds each of ${count} allocations at c=${concurrency} (POST /v1/sandboxes, undici keep-alive), alternating on/off in ABBA order after one warm-up round each. CPU = the measured replica's user+system time from the first request to the round's last answer (with metrics on, plus one scrape of its /metrics: ${exposition.length} bytes at the end).`,
      "",
      "| metrics | allocations | CPU ms per allocation (all rounds) | CPU ms per allocation (median round) | p50 ms | p99 ms | failures |",
      "| --- | --- | --- | --- | --- | --- | --- |",
      summary("on"),
      summary("off"),
      "",
      instruments,
      "",
    ].join("\n"),
  )
  progress(`operator logs: ${workDir}`)
})

program.pipe(
  Effect.scoped,
  Effect.provide(BenchCluster.layer({ nodes: 3 })),
  Effect.provide(stderrLogger),
  NodeRuntime.runMain({ disablePrettyLogger: true }),
)
