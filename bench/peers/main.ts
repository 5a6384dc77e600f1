/**
 * npm run bench:peers — the operator side by side with its peer, sigs.k8s.io/agent-sandbox's
 * controller (built unchanged from the Go module proxy), on one local control plane in one run:
 * claims at each concurrency (the bare PATCH ceiling, ours, the peer's, in alternating rounds),
 * release and refill, time to first instruction, and the operator's scale curve. See bench/README.md.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { KubeClient, ResourceType } from "@agent-sandbox/kube"
import { ControlPlane, FreePorts, Http, TestNamespace } from "@agent-sandbox/testing"
import { OperatorHarness, OperatorNamespaces } from "@agent-sandbox/testing/operator"
import { NodeRuntime } from "@effect/platform-node"
import { Duration, Effect, Exit, Scope } from "effect"
import { type AllocationTarget, allocate, release } from "../allocation/AllocationLoad.ts"
import { awaitBarePods, createBarePods, patchLevel } from "../allocation/PatchCeiling.ts"
import { useSdkEnvironment } from "../e2b/SdkOperations.ts"
import { requestsBetween } from "../support/ApiServerMetrics.ts"
import * as BenchCluster from "../support/BenchCluster.ts"
import { codeVersion, describeHost, hostLine } from "../support/Host.ts"
import { type LoadResult, mergeLoads } from "../support/LoadLoop.ts"
import { progress, stderrLogger } from "../support/Log.ts"
import { bundleOperator } from "../support/OperatorBundle.ts"
import { type RunningOperator, spawnOperator } from "../support/OperatorProcess.ts"
import { cpuMillis, type NamedProcess, perOperation, processesUnder } from "../support/ProcessStats.ts"
import * as Tally from "../support/Tally.ts"
import { awaitWarm, createBenchPool } from "../support/WarmPool.ts"
import * as FirstInstruction from "./FirstInstruction.ts"
import * as Options from "./Options.ts"
import { claimRound, releaseRound } from "./PeerClaims.ts"
import * as PeerController from "./PeerController.ts"
import * as Peer from "./PeerResources.ts"
import { awaitOurPool, awaitPeerPool } from "./PoolFull.ts"
import { type Level, type PathResult, type PeersResults, type RefillResult, render } from "./Report.ts"
import { measurePoint, type OperatorSlot, type ScalePoint, startInSlot, stopSlot } from "./ScaleCurve.ts"

const options = Options.parse(process.argv.slice(2))
const image = "busybox:1.36"
const poolName = "bench"
const peerPool = "bench"
const peerTemplate = "bench"
const timeLimit = Duration.minutes(2)
const fullTimeout = Duration.minutes(10)
// KWOK nodes take 1,000 Pods each: both pools with their claims held, the bare Pods, the scale curve.
const nodes = Math.max(
  3,
  Math.ceil(
    (4 * options.replicas + options.count + Math.max(0, ...options.scale) + options.scaleCount + 200) / 1000,
  ),
)

const pathResult = (tally: Tally.Tally): PathResult => ({
  load: mergeLoads(tally.loads),
  cpu: Tally.cpuPerOperation(tally),
  requests: Tally.requestsPerOperation(tally),
})

/** A refill as a one-sample "load", so Tally adds up its CPU and requests like any round's. */
const timed = <E, R>(wait: Effect.Effect<void, E, R>) =>
  Effect.gen(function* () {
    const t0 = performance.now()
    const exit = yield* Effect.either(wait)
    const seconds = (performance.now() - t0) / 1000
    const failures = new Map<string, number>()
    if (exit._tag === "Left") failures.set(String(exit.left), 1)
    return {
      result: {
        latencies: exit._tag === "Right" ? [seconds * 1000] : [],
        failures,
        attempted: 1,
        seconds,
      } satisfies LoadResult,
    }
  })

const refillResult = (tally: Tally.Tally, sandboxes: number): RefillResult => ({
  seconds: tally.loads.flatMap((l) => l.latencies.map((ms) => ms / 1000)),
  failures: tally.loads.flatMap((l) => [...l.failures.keys()]),
  cpu: perOperation(tally.cpu, sandboxes),
  requests: requestsBetween(new Map(), tally.requests, sandboxes),
})

/** Until the namespace holds exactly `n` Pods, none of them terminating (a released sandbox is gone). */
const awaitPodCount = (namespace: string, n: number) =>
  Effect.gen(function* () {
    const client = yield* KubeClient.KubeClient
    const deadline = Date.now() + Duration.toMillis(fullTimeout)
    for (;;) {
      const pods = yield* client.list(ResourceType.Pod, { namespace })
      const live = pods.items.filter((pod) => pod.metadata?.deletionTimestamp === undefined).length
      if (live === n && pods.items.length === n) return
      if (Date.now() > deadline)
        return yield* Effect.fail(`${namespace}: ${pods.items.length} Pods (${live} live), not ${n}`)
      yield* Effect.sleep(Duration.millis(500))
    }
  })

const program = Effect.gen(function* () {
  const host = describeHost()
  const code = codeVersion()
  progress(`${hostLine(host)}; ${code}`)
  const { replicas, count } = options
  const peerDir = yield* PeerController.build
  progress(`peer controller: ${peerDir}`)
  const controlPlane = yield* ControlPlane.ControlPlane
  progress(`control plane up: ${controlPlane.server} (${nodes} KWOK nodes)`)
  const { namespace, system } = yield* OperatorNamespaces.make("bench")
  yield* PeerController.installCrds(peerDir)
  const peerNamespace = yield* TestNamespace.make("bench-peer")
  const client = yield* KubeClient.KubeClient
  const workDir = mkdtempSync(join(tmpdir(), "agent-sandbox-bench-peers-"))

  // Ours: the pool, the bare Pods of the ceiling, a key, and the operator as it ships (the bundle).
  yield* createBenchPool(namespace, poolName, replicas)
  yield* createBarePods(namespace, count, image)
  const key = yield* OperatorHarness.mintKey(system, "bench", false, OperatorHarness.noQuotas)
  const entry = yield* bundleOperator(join(workDir, "operator.mjs"))
  let operatorGeneration = 0
  const startOperator = (ports: readonly [number, number], e2bPort?: number) =>
    Effect.gen(function* () {
      const name = `operator-${operatorGeneration++}`
      const operator = yield* spawnOperator({
        kubeconfigPath: controlPlane.kubeconfigPath,
        namespace,
        systemNamespace: system,
        apiPort: ports[0],
        probePort: ports[1],
        logFile: join(workDir, `${name}.log`),
        cpuProfileDir:
          options.cpuProfile && name === "operator-0" ? join(workDir, "operator-cpu-profile") : undefined,
        entry,
        env: e2bPort === undefined ? undefined : { AGENT_SANDBOX_E2B_PORT: String(e2bPort) },
      })
      for (let i = 0; (yield* Http.call(`${operator.apiUrl}/v1/pools`, { key })).status !== 200; i++) {
        if (i > 3000) return yield* Effect.fail("the API key never became valid")
        yield* Effect.sleep("10 millis")
      }
      return operator
    })
  const twoPorts = Effect.map(FreePorts.freePorts(2), ([a, b]) => [a!, b!] as const)
  const [e2bPort] = yield* FreePorts.freePorts(1)
  let slot: OperatorSlot = yield* startInSlot(
    Effect.flatMap(twoPorts, (ports) => startOperator(ports, e2bPort)),
  )
  yield* Effect.addFinalizer(() => stopSlot(slot))
  const first: RunningOperator = slot.operator
  progress(`operator ready: ${first.description}`)
  const target: AllocationTarget = { apiUrl: first.apiUrl, key, pool: poolName }
  const ourQuiet = () =>
    awaitWarm({
      namespace,
      pool: poolName,
      minIdle: replicas,
      operatorView: true,
      apiUrl: first.apiUrl,
      adminKey: key,
      timeout: fullTimeout,
    })

  // The peer: template and warm pool of the same size and Pod spec, its controller in a scope of its own.
  yield* client.create(Peer.SandboxTemplateResource, Peer.template(peerNamespace, peerTemplate, image), {
    namespace: peerNamespace,
  })
  yield* client.create(
    Peer.SandboxWarmPoolResource,
    Peer.warmPool(peerNamespace, peerPool, peerTemplate, replicas),
    {
      namespace: peerNamespace,
    },
  )
  const peerScope = yield* Scope.make()
  yield* Effect.addFinalizer(() => Scope.close(peerScope, Exit.void))
  const [metricsPort, peerProbePort] = yield* FreePorts.freePorts(2)
  const peer = yield* Scope.extend(
    PeerController.start({
      peerDir,
      kubeconfigPath: controlPlane.kubeconfigPath,
      leaseNamespace: peerNamespace,
      metricsPort: metricsPort!,
      probePort: peerProbePort!,
      logFile: join(workDir, "peer-controller.log"),
      extraArgs: options.peerArgs,
    }),
    peerScope,
  )
  progress(`peer ready: ${peer.description}`)
  const peerQuiet = () =>
    Effect.zipRight(
      awaitPeerPool(peerNamespace, peerPool, replicas, fullTimeout),
      awaitPodCount(peerNamespace, replicas),
    )

  yield* ourQuiet()
  yield* peerQuiet()
  yield* awaitBarePods(namespace, count)
  progress(`both pools hold ${replicas} warm sandboxes; ${count} bare Pods ready`)

  const processes: ReadonlyArray<NamedProcess> = [
    ...processesUnder(controlPlane.dataDir),
    { name: "operator", pid: first.pid! },
    { name: "peer controller", pid: peer.pid },
  ]

  // Warm-up (not measured): every path once, so no level pays for JIT, caches or first connections.
  const warmup = yield* allocate(target, { count: Options.warmupCount, concurrency: 4, timeLimit })
  yield* release(target, warmup.sandboxIds, 4)
  yield* patchLevel(namespace, { count: Options.warmupCount, concurrency: 4, timeLimit })
  const peerWarmup = yield* claimRound({
    namespace: peerNamespace,
    pool: peerPool,
    round: "warmup",
    count: Options.warmupCount,
    concurrency: 4,
    timeLimit,
  })
  yield* releaseRound({ namespace: peerNamespace, round: "warmup", names: peerWarmup.names, concurrency: 4 })

  const levels: Array<Level> = []
  const resultsOf = (partial: Pick<PeersResults, "tffi" | "scale" | "scaleError">): PeersResults => ({
    title: `Side by side with sigs.k8s.io/agent-sandbox (${host.startedAt})`,
    header: [
      `Host: ${hostLine(host)}.`,
      `Code: ${code}.`,
      `Control plane: local (etcd, kube-apiserver, scheduler, controller manager, KWOK with ${nodes} fake nodes; Pods Ready as soon as scheduled, exec runs as a local process).`,
      `Ours: ${first.description}; pool \`${poolName}\` of ${replicas} warm Pods (one container \`sandbox\`, ${image}), shipped defaults (burstReserve 25%).`,
      `Peer: sigs.k8s.io/agent-sandbox v1.0.1 cmd/agent-sandbox-controller built unchanged from the Go module proxy (tools/peers/build.sh), CRDs from its k8s/crds, run with the admin kubeconfig as \`agent-sandbox-controller ${peer.args.join(" ")}\`: its extensions Deployment's flags plus loopback addresses and the Lease namespace; everything else at its defaults (sandbox-claim workers 50, sandbox workers 100, warm-pool workers 1, kube-api-qps -1 = no client-side limit, burst 10, api-connections 1, warm-pool max batch 300, no replenish delay, claim events and observability annotations on, NetworkPolicy management Managed). SandboxTemplate with the same Pod spec, SandboxWarmPool of ${replicas}.`,
      `Claims: each level runs ${options.rounds} rounds of ${count} operations per path — bare PATCH, ours, the peer's — alternating (P O S P O S …, after a warm-up of ${Options.warmupCount} each), closed loop at c. Ours: POST /v1/sandboxes over c keep-alive connections, timed to the 201's last byte. Peer: create a SandboxClaim through @agent-sandbox/kube (HTTP/2), timed until a watch opened before the round shows its Ready condition True. Ceiling: the allocator's own resourceVersion-checked merge PATCH on bare Pods.`,
      "API writes per claim: the API server's apiserver_request_total (POST, PUT, PATCH, DELETE, APPLY) between the start and end of each round, every client included (the peer's own claim create counts: its users must write it), Lease renewals left out; divided by the claims served.",
      "Each system's CPU and writes are counted while the other is idle but running (the peer watches every Pod of the cluster, ours only its namespace).",
    ],
    footer: [
      `Load average at the end: ${describeHost()
        .loadAverage.map((l) => l.toFixed(2))
        .join(" / ")}.`,
      `Logs${options.cpuProfile ? " and the operator's CPU profile" : ""}: ${workDir}.`,
    ],
    count,
    rounds: options.rounds,
    levels,
    ...partial,
  })
  /** Everything so far, after each level: a run cut short (a process killed from outside) still shows it. */
  const partialFile = join(workDir, "partial.md")
  /** Fails at once when the operator or the peer is gone (nothing else would notice before a timeout). */
  const alive = Effect.suspend(() => {
    const gone = [
      ["operator", first.pid!],
      ["peer controller", peer.pid],
    ].filter(([, pid]) => cpuMillis(pid as number) === undefined)
    return gone.length === 0
      ? Effect.void
      : Effect.fail(
          `${gone.map(([name, pid]) => `${name} (pid ${pid})`).join(" and ")} ended unexpectedly; see the logs in ${workDir} and the partial report in ${partialFile}`,
        )
  })
  for (const concurrency of options.levels) {
    const tallies = {
      patch: Tally.make(),
      ours: { claim: Tally.make(), release: Tally.make(), refill: Tally.make() },
      peer: { claim: Tally.make(), release: Tally.make(), refill: Tally.make() },
    }
    let oursClaimed = 0
    let peerClaimed = 0
    for (let round = 1; round <= options.rounds; round++) {
      const of = `c=${concurrency} round ${round}/${options.rounds}`
      yield* alive
      yield* ourQuiet()
      yield* peerQuiet()
      progress(`${of}: ${count} bare PATCHes`)
      yield* Tally.measure(tallies.patch, processes, patchLevel(namespace, { count, concurrency, timeLimit }))

      progress(`${of}: ${count} claims through the operator`)
      const ours = yield* Tally.measure(
        tallies.ours.claim,
        processes,
        allocate(target, { count, concurrency, timeLimit }),
      )
      oursClaimed += ours.sandboxIds.length
      yield* Tally.measure(
        tallies.ours.refill,
        processes,
        timed(awaitOurPool(namespace, poolName, replicas, fullTimeout)),
      )
      yield* Tally.measure(
        tallies.ours.release,
        processes,
        Effect.map(release(target, ours.sandboxIds, concurrency), (result) => ({ result })),
      )
      yield* ourQuiet()

      progress(`${of}: ${count} SandboxClaims on the peer`)
      const tag = `c${concurrency}-r${round}`
      const claimed = yield* Tally.measure(
        tallies.peer.claim,
        processes,
        claimRound({ namespace: peerNamespace, pool: peerPool, round: tag, count, concurrency, timeLimit }),
      )
      peerClaimed += claimed.names.length
      yield* Tally.measure(
        tallies.peer.refill,
        processes,
        timed(awaitPeerPool(peerNamespace, peerPool, replicas, fullTimeout)),
      )
      yield* Tally.measure(
        tallies.peer.release,
        processes,
        releaseRound({ namespace: peerNamespace, round: tag, names: claimed.names, concurrency }),
      )
    }
    levels.push({
      concurrency,
      patch: pathResult(tallies.patch),
      ours: {
        claim: pathResult(tallies.ours.claim),
        release: pathResult(tallies.ours.release),
        refill: refillResult(tallies.ours.refill, oursClaimed),
      },
      peer: {
        claim: pathResult(tallies.peer.claim),
        release: pathResult(tallies.peer.release),
        refill: refillResult(tallies.peer.refill, peerClaimed),
      },
    })
    writeFileSync(partialFile, render(resultsOf({ tffi: undefined, scale: [], scaleError: undefined })))
  }
  yield* alive

  // Time to first instruction, one at a time, the two systems alternating.
  yield* ourQuiet()
  yield* peerQuiet()
  if (options.tffi > 0) progress(`time to first instruction: ${options.tffi} each`)
  const e2bUrl = `http://127.0.0.1:${e2bPort}`
  const tffi =
    options.tffi === 0
      ? undefined
      : yield* Effect.scoped(
          Effect.gen(function* () {
            yield* useSdkEnvironment({ E2B_API_URL: e2bUrl, E2B_SANDBOX_URL: e2bUrl, E2B_API_KEY: key })
            const samples = { ours: [] as Array<number>, peer: [] as Array<number> }
            const failures = { ours: new Map<string, number>(), peer: new Map<string, number>() }
            const seconds = { ours: 0, peer: 0 }
            const sample = <R>(
              which: "ours" | "peer",
              run: Effect.Effect<FirstInstruction.FirstInstruction, unknown, R>,
            ) =>
              Effect.gen(function* () {
                const t0 = performance.now()
                const exit = yield* Effect.either(run)
                seconds[which] += (performance.now() - t0) / 1000
                if (exit._tag === "Right") {
                  samples[which].push(exit.right.millis)
                  yield* Effect.ignore(exit.right.release)
                } else {
                  const reason = String(exit.left).slice(0, 120)
                  failures[which].set(reason, (failures[which].get(reason) ?? 0) + 1)
                }
              })
            // Untimed warm-up of both paths.
            for (let i = 0; i < 3; i++) {
              yield* Effect.ignore(Effect.flatMap(FirstInstruction.ours(poolName), (s) => s.release))
              yield* Effect.ignore(
                Effect.flatMap(FirstInstruction.peer(peerNamespace, peerPool, -1 - i), (s) => s.release),
              )
            }
            for (let i = 0; i < options.tffi; i++) {
              yield* sample("ours", FirstInstruction.ours(poolName))
              yield* sample("peer", FirstInstruction.peer(peerNamespace, peerPool, i))
            }
            const load = (which: "ours" | "peer"): LoadResult => ({
              latencies: samples[which],
              failures: failures[which],
              attempted: options.tffi,
              seconds: seconds[which],
            })
            return { ours: load("ours"), peer: load("peer") }
          }),
        )

  // The scale curve: the peer stops first, so only the operator and the control plane share the cores.
  yield* Scope.close(peerScope, Exit.void)
  const scale: Array<ScalePoint> = []
  let scaleError: string | undefined
  if (options.scale.length > 0) {
    yield* ourQuiet()
    for (const pods of options.scale) {
      const measured = yield* Effect.either(
        measurePoint(
          {
            namespace,
            pool: poolName,
            key,
            claims: options.scaleCount,
            startOperator: (ports) => startOperator(ports),
            freePorts: twoPorts,
          },
          slot,
          pods,
        ),
      )
      if (measured._tag === "Left") {
        scaleError = `at ${pods} Pods: ${String(measured.left)}`
        break
      }
      scale.push(measured.right.point)
      slot = measured.right.slot
    }
  }

  const results = resultsOf({ tffi, scale, scaleError })
  const markdown = render(results)
  process.stdout.write(markdown)
  if (options.out !== undefined) writeFileSync(options.out, markdown)
  progress(`logs: ${workDir}`)
})

program.pipe(
  Effect.scoped,
  Effect.provide(BenchCluster.layer({ nodes })),
  Effect.provide(stderrLogger),
  NodeRuntime.runMain({ disablePrettyLogger: true }),
)
