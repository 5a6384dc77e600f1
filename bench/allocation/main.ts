/**
 * npm run bench:allocation — allocation latency and throughput as a client sees them, next to the
 * ceiling (the bare conditional PATCH the allocation is made of), the operator's own floor, and the
 * cold path a warm pool avoids, on a local control plane started for this run. See bench/README.md.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ControlPlane } from "@agent-sandbox/testing"
import { NodeRuntime } from "@effect/platform-node"
import { Duration, Effect } from "effect"
import { call } from "../../packages/server/test/support/Http.ts"
import { mintKey } from "../../packages/server/test/support/OperatorHarness.ts"
import { freeLoopbackPorts } from "../../packages/server/test/support/Ports.ts"
import { operatorNamespaces } from "../../packages/server/test/support/TestCluster.ts"
import { requestCounts, requestsBetween } from "../support/ApiServerMetrics.ts"
import * as BenchCluster from "../support/BenchCluster.ts"
import { codeVersion, describeHost, hostLine } from "../support/Host.ts"
import { holdLeadership } from "../support/LeaseHolder.ts"
import type { LoadResult } from "../support/LoadLoop.ts"
import { progress, stderrLogger } from "../support/Log.ts"
import { bundleOperator } from "../support/OperatorBundle.ts"
import { inProcessOperator, type RunningOperator, spawnOperator } from "../support/OperatorProcess.ts"
import { cpuBetween, cpuSnapshot, perOperation, processesUnder } from "../support/ProcessStats.ts"
import { awaitWarm, countPool, createBenchPool } from "../support/WarmPool.ts"
import { allocate, floor, release } from "./AllocationLoad.ts"
import { coldStart } from "./ColdStart.ts"
import * as Options from "./Options.ts"
import { awaitBarePods, createBarePods, patchLevel } from "./PatchCeiling.ts"
import { type BenchResults, type ColdRound, type Level, render } from "./Report.ts"

const options = Options.parse(process.argv.slice(2))
const image = "busybox:1.36"
const poolName = "bench"
const nodes = 3
const timeLimit = Duration.minutes(2)
const releaseConcurrency = 16

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

const awaitKey = (operator: RunningOperator, key: string) =>
  Effect.gen(function* () {
    // The key watch sees a new Secret shortly after it is written.
    for (let i = 0; (yield* call(`${operator.apiUrl}/v1/pools`, { key })).status !== 200; i++) {
      if (i > 300) return yield* Effect.fail("the API key never became valid")
      yield* Effect.sleep("100 millis")
    }
  })

const program = Effect.gen(function* () {
  const host = describeHost()
  const code = codeVersion()
  progress(`${hostLine(host)}; ${code}`)
  const { replicas, count } = options
  const controlPlane = yield* ControlPlane.ControlPlane
  progress(`control plane up: ${controlPlane.server}`)
  const { namespace, system } = yield* operatorNamespaces("bench")
  yield* createBenchPool(namespace, poolName, replicas, options.noRefill ? replicas : undefined)
  yield* createBarePods(namespace, count, image)
  const key = yield* mintKey(system, "bench")

  const workDir = mkdtempSync(join(tmpdir(), "agent-sandbox-bench-"))
  // What ships: the bundle `npm run build` makes, which applies its own node settings.
  const entry =
    options.operator === "process" && !options.sources
      ? yield* bundleOperator(join(workDir, "operator.mjs"))
      : undefined
  const startOperator = (name: string) =>
    Effect.gen(function* () {
      const [apiPort, probePort] = yield* freeLoopbackPorts(2)
      const operatorOptions = {
        kubeconfigPath: controlPlane.kubeconfigPath,
        namespace,
        systemNamespace: system,
        apiPort: apiPort!,
        probePort: probePort!,
        logFile: join(workDir, `${name}.log`),
        cpuProfileDir: options.cpuProfile ? join(workDir, `${name}-cpu-profile`) : undefined,
        nodeArgs: options.nodeArgs,
        entry,
      }
      const operator =
        options.operator === "in-process"
          ? yield* inProcessOperator(operatorOptions)
          : yield* spawnOperator(operatorOptions)
      yield* awaitKey(operator, key)
      progress(`operator ready: ${operator.description}`)
      return operator
    })
  const warm = (operator: RunningOperator, minIdle: number) =>
    awaitWarm({
      namespace,
      pool: poolName,
      minIdle,
      operatorView: !options.follower,
      apiUrl: operator.apiUrl,
      adminKey: key,
      timeout: Duration.minutes(5),
    })

  if (options.follower) {
    // A leader fills the pool and goes; the benchmark then holds the Lease, so the measured operator follows.
    yield* Effect.scoped(Effect.flatMap(startOperator("operator-leader"), (leader) => warm(leader, replicas)))
    yield* holdLeadership(system)
  }
  const operator = yield* startOperator("operator")
  const target = { apiUrl: operator.apiUrl, key, pool: poolName }
  yield* warm(operator, replicas)
  yield* awaitBarePods(namespace, count)
  progress(`warm pool of ${replicas} idle+Ready Pods and ${count} bare Pods ready`)

  const processes = [
    ...processesUnder(controlPlane.dataDir),
    ...(operator.pid === undefined ? [] : [{ name: "operator", pid: operator.pid }]),
  ]

  // Warm-up (not measured): JIT, caches and connections on every path.
  const warmup = yield* allocate(target, { count: Options.warmupCount, concurrency: 4, timeLimit })
  yield* release(target, warmup.sandboxIds, 4)
  yield* patchLevel(namespace, { count: Options.warmupCount, concurrency: 4, timeLimit })
  yield* floor(target, { count: Options.warmupCount, concurrency: 4, timeLimit })

  const results: Array<Level> = []
  const releases: Array<LoadResult> = []
  // A follower's pool is not refilled: each level takes from what is left.
  const quietIdle = () => (options.follower ? count : replicas)
  for (const concurrency of options.levels) {
    yield* warm(operator, quietIdle())
    progress(`c=${concurrency}: ${count} bare PATCHes, ${count} floor requests`)
    const requests0 = yield* requestCounts
    const cpu0 = cpuSnapshot(processes)
    const patch = yield* patchLevel(namespace, { count, concurrency, timeLimit })
    const patchCpu = cpuBetween(cpu0, cpuSnapshot(processes))
    const patchRequests = requestsBetween(requests0, yield* requestCounts, patch.result.latencies.length)
    const floorResult = yield* floor(target, { count, concurrency, timeLimit })

    const before = yield* warm(operator, quietIdle())
    const idleBefore = options.follower ? before.idleReady : before.operatorIdle
    progress(`c=${concurrency}: ${count} allocations (${idleBefore} idle)`)
    const requests1 = yield* requestCounts
    const cpu1 = cpuSnapshot(processes)
    const allocation = yield* allocate(target, { count, concurrency, timeLimit })
    const allocationCpu = cpuBetween(cpu1, cpuSnapshot(processes))
    const allocationRequests = requestsBetween(
      requests1,
      yield* requestCounts,
      allocation.result.latencies.length,
    )
    const after = yield* countPool(namespace, poolName, operator.apiUrl, key)

    progress(`c=${concurrency}: releasing ${allocation.sandboxIds.length} sandboxes`)
    releases.push(yield* release(target, allocation.sandboxIds, releaseConcurrency))
    results.push({
      concurrency,
      patch: patch.result,
      patchConflicts: patch.conflicts,
      allocation: allocation.result,
      floor: floorResult,
      idleBefore,
      refillCreates: Math.max(0, after.idleReady + after.starting + after.allocated - before.idleReady),
      patchCpu: perOperation(patchCpu, patch.result.latencies.length),
      allocationCpu: perOperation(allocationCpu, allocation.result.latencies.length),
      patchRequests,
      allocationRequests,
    })
  }

  const cold: Array<ColdRound> = []
  for (const [round, n, concurrency] of [
    ["seq", options.coldSequential, 1],
    ["par", options.coldConcurrent, 16],
  ] as const) {
    progress(`cold path: ${n} Pods at c=${concurrency}`)
    cold.push({ concurrency, result: yield* coldStart({ namespace, round, count: n, concurrency, image }) })
  }

  const diagnostics = [
    ...(options.noRefill
      ? [
          `Diagnostic --no-refill: the pool has maxPods=${replicas}, so it creates no replacement Pods while allocations run (not the shipped behaviour).`,
        ]
      : []),
    ...(options.follower
      ? [
          "Diagnostic --follower: the benchmark holds the leader Lease, so the measured operator runs no reconciler (as a non-leader replica); its pool is never refilled and was sized for every level; 'idle before' is the API server's count.",
        ]
      : []),
    ...(options.sources
      ? [
          "Diagnostic --sources: the operator runs from its .ts sources (type stripping), not the shipped bundle.",
        ]
      : []),
  ]
  const report: BenchResults = {
    title: `Allocation benchmark (${host.startedAt})`,
    header: [
      `Host: ${hostLine(host)}.`,
      `Code: ${code}.`,
      `Control plane: local (etcd, kube-apiserver, scheduler, controller manager, KWOK with ${nodes} fake nodes; Pods Ready as soon as scheduled — no image pull or container start).`,
      `Operator: ${operator.description}.`,
      `Allocation client: undici ${packageVersion("undici")} Pool, HTTP/1.1 keep-alive, c connections opened before each level, closed loop (each connection sends its next request when the answer is in); latency = request to last byte of the 201.`,
      "Operator floor: GET /v1/pools on the same kind of connections — HTTP, API-key check and encoding, answered from the operator's cache without a Kubernetes call.",
      "Ceiling: bare resourceVersion-checked merge PATCH, the allocator's own body (SandboxPod.claimPatch), one per settled unlabelled Pod, through @agent-sandbox/kube KubeClient with the operator's settings (undici, HTTP/2, 4 connections), from this process.",
      `Warm pool: ${replicas} replicas; ${count} operations per level after a warm-up of ${Options.warmupCount}; before each level the pool is quiet (enough idle+Ready, none starting, the operator agrees). Allocated sandboxes are released after each level.`,
      ...(diagnostics.length === 0
        ? [
            "The pool refills as it ships: during a burst of claims it keeps its burstReserve (default 25% of the warm target) and refills below it one for one; the rest once claims pause for a second.",
          ]
        : diagnostics),
      `Cold path: bare Pods created one at a time (c=1, n=${options.coldSequential}) and ${options.coldConcurrent} at c=16, timed until a watch shows them Running+Ready.`,
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
  if (options.out !== undefined) writeFileSync(options.out, markdown)
  progress(`operator logs and any CPU profile: ${workDir}`)
})

program.pipe(
  Effect.scoped,
  Effect.provide(BenchCluster.layer({ nodes })),
  Effect.provide(stderrLogger),
  NodeRuntime.runMain({ disablePrettyLogger: true }),
)
