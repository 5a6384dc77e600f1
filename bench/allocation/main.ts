/**
 * npm run bench:allocation — allocation latency and throughput as a client sees them, next to the
 * ceiling (the bare conditional PATCH the allocation is made of) and the cold path it avoids, on a
 * local control plane started for this run. See bench/README.md.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { ControlPlane, TestNamespace } from "@agent-sandbox/testing"
import { NodeRuntime } from "@effect/platform-node"
import { Duration, Effect } from "effect"
import { installCrds } from "../../packages/server/test/support/Crds.ts"
import { call } from "../../packages/server/test/support/Http.ts"
import { mintKey } from "../../packages/server/test/support/OperatorHarness.ts"
import { freeLoopbackPorts } from "../../packages/server/test/support/Ports.ts"
import * as BenchCluster from "../support/BenchCluster.ts"
import { describeHost, hostLine } from "../support/Host.ts"
import type { LoadResult } from "../support/LoadLoop.ts"
import { progress, stderrLogger } from "../support/Log.ts"
import { inProcessOperator, spawnOperator } from "../support/OperatorProcess.ts"
import { cpuBetween, cpuSnapshot, processesUnder } from "../support/ProcessStats.ts"
import { awaitWarm, countPool, createBenchPool } from "../support/WarmPool.ts"
import { allocate, floor, release } from "./AllocationLoad.ts"
import { coldStart } from "./ColdStart.ts"
import { awaitBarePods, createBarePods, patchLevel } from "./PatchCeiling.ts"
import { type BenchResults, type ColdRound, type Level, render } from "./Report.ts"

const { values: flags } = parseArgs({
  options: {
    replicas: { type: "string", default: "256" },
    count: { type: "string", default: "200" },
    levels: { type: "string", default: "1,16,64" },
    cold: { type: "string", default: "20" },
    "cold-concurrent": { type: "string", default: "32" },
    operator: { type: "string", default: "process" },
    "cpu-prof": { type: "boolean", default: false },
    "no-refill": { type: "boolean", default: false },
    out: { type: "string" },
  },
})
const replicas = Number(flags.replicas)
const count = Number(flags.count)
const levels = flags.levels.split(",").map(Number)
const coldSequential = Number(flags.cold)
const coldConcurrent = Number(flags["cold-concurrent"])
const inProcess = flags.operator === "in-process"
const image = "busybox:1.36"
const poolName = "bench"
const timeLimit = Duration.minutes(2)
const releaseConcurrency = 16
if (count > replicas)
  throw new Error(`--count (${count}) must not exceed --replicas (${replicas}): every level is served warm`)
if (flags.operator !== "process" && flags.operator !== "in-process")
  throw new Error("--operator is process or in-process")

const packageVersion = (name: string) => {
  try {
    return (createRequire(import.meta.url)(`${name}/package.json`) as { version: string }).version
  } catch {
    return "?"
  }
}

const mergeLoads = (results: ReadonlyArray<LoadResult>): LoadResult => {
  const failures = new Map<string, number>()
  for (const r of results)
    for (const [reason, n] of r.failures) failures.set(reason, (failures.get(reason) ?? 0) + n)
  return {
    latencies: results.flatMap((r) => r.latencies),
    failures,
    attempted: results.reduce((n, r) => n + r.attempted, 0),
    seconds: results.reduce((n, r) => n + r.seconds, 0),
  }
}

const perOperation = (cpu: ReadonlyMap<string, number>, operations: number) =>
  new Map([...cpu].map(([name, millis]) => [name, operations > 0 ? millis / operations : Number.NaN]))

const program = Effect.gen(function* () {
  const host = describeHost()
  progress(hostLine(host))
  const controlPlane = yield* ControlPlane.ControlPlane
  progress(`control plane up: ${controlPlane.server}`)
  yield* installCrds
  const namespace = yield* TestNamespace.make("bench")
  const system = yield* TestNamespace.make("bench-system")
  yield* createBenchPool(namespace, poolName, replicas, flags["no-refill"] ? replicas : undefined)
  yield* createBarePods(namespace, count, image)

  const workDir = mkdtempSync(join(tmpdir(), "agent-sandbox-bench-"))
  const [apiPort, probePort] = yield* freeLoopbackPorts(2)
  const operatorOptions = {
    kubeconfigPath: controlPlane.kubeconfigPath,
    namespace,
    systemNamespace: system,
    apiPort: apiPort!,
    probePort: probePort!,
    logFile: join(workDir, "operator.log"),
    cpuProfileDir: flags["cpu-prof"] ? join(workDir, "cpu-profile") : undefined,
  }
  const operator = inProcess
    ? yield* inProcessOperator(operatorOptions)
    : yield* spawnOperator(operatorOptions)
  progress(`operator ready: ${operator.description}`)
  const key = yield* mintKey(system, "bench")
  const target = { apiUrl: operator.apiUrl, key, pool: poolName }
  // The key watch sees the new Secret shortly after it is written.
  for (let i = 0; (yield* call(`${operator.apiUrl}/v1/pools`, { key })).status !== 200; i++) {
    if (i > 300) return yield* Effect.fail("the API key never became valid")
    yield* Effect.sleep("100 millis")
  }
  const warm = () =>
    awaitWarm({
      namespace,
      pool: poolName,
      replicas,
      apiUrl: operator.apiUrl,
      adminKey: key,
      timeout: Duration.minutes(5),
    })
  yield* warm()
  yield* awaitBarePods(namespace, count)
  progress(`warm pool of ${replicas} idle+Ready Pods and ${count} bare Pods ready`)

  const processes = [
    ...processesUnder(controlPlane.dataDir),
    ...(operator.pid === undefined ? [] : [{ name: "operator", pid: operator.pid }]),
  ]

  // Warm-up (not measured): JIT, caches and connections on both paths.
  const warmup = yield* allocate(target, { count: 16, concurrency: 4, timeLimit })
  yield* release(target, warmup.sandboxIds, 4)
  yield* patchLevel(namespace, { count: 16, concurrency: 4, timeLimit })

  const results: Array<Level> = []
  const releases: Array<LoadResult> = []
  for (const concurrency of levels) {
    yield* warm()
    progress(`c=${concurrency}: ${count} bare PATCHes`)
    const cpu0 = cpuSnapshot(processes)
    const patch = yield* patchLevel(namespace, { count, concurrency, timeLimit })
    const patchCpu = cpuBetween(cpu0, cpuSnapshot(processes))

    progress(`c=${concurrency}: ${count} floor requests`)
    const floorResult = yield* floor(target, { count, concurrency, timeLimit })

    const before = yield* warm()
    progress(`c=${concurrency}: ${count} allocations (operator sees ${before.operatorIdle} idle)`)
    const cpu1 = cpuSnapshot(processes)
    const allocation = yield* allocate(target, { count, concurrency, timeLimit })
    const allocationCpu = cpuBetween(cpu1, cpuSnapshot(processes))
    const after = yield* countPool(namespace, poolName, operator.apiUrl, key)

    progress(`c=${concurrency}: releasing ${allocation.sandboxIds.length} sandboxes`)
    releases.push(yield* release(target, allocation.sandboxIds, releaseConcurrency))
    results.push({
      concurrency,
      patch: patch.result,
      patchConflicts: patch.conflicts,
      allocation: allocation.result,
      floor: floorResult,
      idleBefore: before.operatorIdle,
      refillCreates: Math.max(0, after.idleReady + after.starting + after.allocated - before.idleReady),
      patchCpu: perOperation(patchCpu, patch.result.latencies.length),
      allocationCpu: perOperation(allocationCpu, allocation.result.latencies.length),
    })
  }

  const cold: Array<ColdRound> = []
  for (const [round, n, concurrency] of [
    ["seq", coldSequential, 1],
    ["par", coldConcurrent, 16],
  ] as const) {
    progress(`cold path: ${n} Pods at c=${concurrency}`)
    cold.push({ concurrency, result: yield* coldStart({ namespace, round, count: n, concurrency, image }) })
  }

  const report: BenchResults = {
    title: `Allocation benchmark (${host.startedAt})`,
    header: [
      `Host: ${hostLine(host)}.`,
      `Control plane: local (etcd, kube-apiserver, scheduler, controller manager, KWOK with ${3} fake nodes; Pods Ready as soon as scheduled — no image pull or container start).`,
      `Operator: ${operator.description}.`,
      `Allocation client: undici ${packageVersion("undici")} Pool, HTTP/1.1 keep-alive, c connections opened before each level, closed loop (each connection sends its next request when the answer is in); latency = request to last byte of the 201.`,
      "Ceiling: bare resourceVersion-checked merge PATCH, the allocator's own body (SandboxPod.claimPatch), one per settled unlabelled Pod, through @agent-sandbox/kube KubeClient with the operator's settings (undici, HTTP/2, 4 connections), from this process.",
      `Warm pool: ${replicas} replicas; ${count} operations per level; before each level the pool is full and quiet (${replicas} idle+Ready, none starting, operator agrees). Allocated sandboxes are released after each level.`,
      flags["no-refill"]
        ? `Diagnostic --no-refill: the pool has maxPods=${replicas}, so it creates no replacement Pods while allocations run (not the shipped behaviour).`
        : "The pool refills as it ships: each allocation makes the reconciler create a replacement Pod while the level runs.",
      `Cold path: bare Pods created one at a time (c=1, n=${coldSequential}) and ${coldConcurrent} at c=16, timed until a watch shows them Running+Ready.`,
    ],
    footer: [
      `Load average at the end: ${describeHost()
        .loadAverage.map((l) => l.toFixed(2))
        .join(" / ")}.`,
    ],
    count,
    levels: results,
    release: mergeLoads(releases),
    releaseConcurrency,
    cold,
  }
  const markdown = render(report)
  process.stdout.write(markdown)
  if (flags.out !== undefined) writeFileSync(flags.out, markdown)
  progress(`operator log and any CPU profile: ${workDir}`)
})

program.pipe(
  Effect.scoped,
  Effect.provide(BenchCluster.layer({ nodes: 3 })),
  Effect.provide(stderrLogger),
  NodeRuntime.runMain({ disablePrettyLogger: true }),
)
