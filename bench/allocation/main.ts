/**
 * npm run bench:allocation — allocation latency and throughput as a client sees them, next to the
 * ceiling (the bare conditional PATCH the allocation is made of), the operator's own floor, and the
 * cold path a warm pool avoids, on a local control plane started for this run. See bench/README.md.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ControlPlane, FreePorts, Http } from "@agent-sandbox/testing"
import { OperatorHarness, OperatorNamespaces } from "@agent-sandbox/testing/operator"
import { NodeRuntime } from "@effect/platform-node"
import { Duration, Effect } from "effect"
import * as BenchCluster from "../support/BenchCluster.ts"
import { codeVersion, describeHost, hostLine } from "../support/Host.ts"
import { holdLeadership } from "../support/LeaseHolder.ts"
import { type LoadResult, mergeLoads } from "../support/LoadLoop.ts"
import { progress, stderrLogger } from "../support/Log.ts"
import { bundleOperator } from "../support/OperatorBundle.ts"
import { inProcessOperator, type RunningOperator, spawnOperator } from "../support/OperatorProcess.ts"
import { processesUnder } from "../support/ProcessStats.ts"
import * as Tally from "../support/Tally.ts"
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

const awaitKey = (operator: RunningOperator, key: string) =>
  Effect.gen(function* () {
    // The key watch sees a new Secret shortly after it is written.
    for (let i = 0; (yield* Http.call(`${operator.apiUrl}/v1/pools`, { key })).status !== 200; i++) {
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
  const { namespace, system } = yield* OperatorNamespaces.make("bench")
  yield* createBenchPool(namespace, poolName, replicas, options.noRefill ? replicas : undefined)
  yield* createBarePods(namespace, count, image)
  const key = yield* OperatorHarness.mintKey(system, "bench", false, OperatorHarness.noQuotas)

  const workDir = mkdtempSync(join(tmpdir(), "agent-sandbox-bench-"))
  // What ships: the bundle `npm run build` makes, which applies its own node settings.
  const entry =
    options.operator === "process" && !options.sources
      ? yield* bundleOperator(join(workDir, "operator.mjs"))
      : undefined
  const startOperator = (name: string) =>
    Effect.gen(function* () {
      const [apiPort, probePort] = yield* FreePorts.freePorts(2)
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
    // Rounds alternate the ceiling and the allocation (P A P A …), so drift of the shared host (its
    // other tenants, the API server's own GC) falls on both paths alike instead of on whichever ran second.
    const patches = Tally.make()
    const allocations = Tally.make()
    let patchConflicts = 0
    let idleBefore = Number.POSITIVE_INFINITY
    let refillCreates = 0
    for (let round = 1; round <= options.rounds; round++) {
      const of = `c=${concurrency} round ${round}/${options.rounds}`
      yield* warm(operator, quietIdle())
      progress(`${of}: ${count} bare PATCHes`)
      const patch = yield* Tally.measure(
        patches,
        processes,
        patchLevel(namespace, { count, concurrency, timeLimit }),
      )
      patchConflicts += patch.conflicts

      const before = yield* warm(operator, quietIdle())
      const idle = options.follower ? before.idleReady : before.operatorIdle
      idleBefore = Math.min(idleBefore, idle)
      progress(`${of}: ${count} allocations (${idle} idle)`)
      const allocation = yield* Tally.measure(
        allocations,
        processes,
        allocate(target, { count, concurrency, timeLimit }),
      )
      const after = yield* countPool(namespace, poolName, operator.apiUrl, key)
      refillCreates += Math.max(0, after.idleReady + after.starting + after.allocated - before.idleReady)

      progress(`${of}: releasing ${allocation.sandboxIds.length} sandboxes`)
      releases.push(yield* release(target, allocation.sandboxIds, releaseConcurrency))
    }
    yield* warm(operator, quietIdle())
    progress(`c=${concurrency}: ${count} floor requests`)
    const floorResult = yield* floor(target, { count, concurrency, timeLimit })
    results.push({
      concurrency,
      patch: mergeLoads(patches.loads),
      patchConflicts,
      allocation: mergeLoads(allocations.loads),
      floor: floorResult,
      idleBefore,
      refillCreates,
      patchCpu: Tally.cpuPerOperation(patches),
      allocationCpu: Tally.cpuPerOperation(allocations),
      patchRequests: Tally.requestsPerOperation(patches),
      allocationRequests: Tally.requestsPerOperation(allocations),
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
      `Warm pool: ${replicas} replicas. Each level runs ${options.rounds} rounds of ${count} bare PATCHes then ${count} allocations, alternating (P A P A …, after a warm-up of ${Options.warmupCount}), and reports them pooled; before each round the pool is quiet (enough idle+Ready, none starting, the operator agrees), and a round's sandboxes are released after it.`,
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
    rounds: options.rounds,
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
