/**
 * npm run bench:e2b — what a user of the unchanged E2B JS SDK meets: Sandbox.create, commands.run,
 * files.write/read, against the operator's E2B server on a local control plane started for this
 * run, with the bare Kubernetes exec and envd's HTTP path beside them to show where the time goes.
 * See bench/README.md.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ControlPlane, FreePorts, Http } from "@agent-sandbox/testing"
import { OperatorHarness, OperatorNamespaces } from "@agent-sandbox/testing/operator"
import { NodeRuntime } from "@effect/platform-node"
import type { Sandbox } from "e2b"
import { Duration, Effect } from "effect"
import * as BenchCluster from "../support/BenchCluster.ts"
import { codeVersion, describeHost, hostLine } from "../support/Host.ts"
import { type LoadResult, runLoad } from "../support/LoadLoop.ts"
import { progress, stderrLogger } from "../support/Log.ts"
import { spawnOperator } from "../support/OperatorProcess.ts"
import {
  cpuBetween,
  cpuSnapshot,
  type NamedProcess,
  perOperation,
  processesUnder,
} from "../support/ProcessStats.ts"
import { awaitWarm, createBenchPool } from "../support/WarmPool.ts"
import * as ApiRequests from "./ApiRequests.ts"
import { bareCommands, bareExec, endpointOf, health, type SandboxEndpoint } from "./DataPlaneFloor.ts"
import * as Options from "./Options.ts"
import { type Row, type RowKind, render } from "./Report.ts"
import { exclusive } from "./SandboxRotation.ts"
import * as Sdk from "./SdkOperations.ts"

const options = Options.parse(process.argv.slice(2))
const poolName = "bench"
const nodes = 1
const timeLimit = Duration.minutes(2)
const aimMillis = 30
const kib = 1024
const mib = 1024 * kib

const sdkVersion = (() => {
  try {
    const require = createRequire(join(import.meta.dirname, "../../packages/sdk-tests/package.json"))
    return (require("e2b/package.json") as { version: string }).version
  } catch {
    return "?"
  }
})()

const program = Effect.gen(function* () {
  const host = describeHost()
  const code = codeVersion()
  progress(`${hostLine(host)}; ${code}`)
  const controlPlane = yield* ControlPlane.ControlPlane
  progress(`control plane up: ${controlPlane.server}`)
  const { namespace, system } = yield* OperatorNamespaces.make("bench-e2b")
  yield* createBenchPool(namespace, poolName, options.replicas)
  const key = yield* OperatorHarness.mintKey(system, "bench", false, OperatorHarness.noQuotas)

  const workDir = mkdtempSync(join(tmpdir(), "agent-sandbox-bench-e2b-"))
  const [apiPort, probePort, e2bPort] = yield* FreePorts.freePorts(3)
  const operator = yield* spawnOperator({
    kubeconfigPath: controlPlane.kubeconfigPath,
    namespace,
    systemNamespace: system,
    apiPort: apiPort!,
    probePort: probePort!,
    logFile: join(workDir, "operator.log"),
    cpuProfileDir: options.cpuProfile ? join(workDir, "operator-cpu-profile") : undefined,
    env: { AGENT_SANDBOX_E2B_PORT: String(e2bPort) },
  })
  const serverUrl = `http://127.0.0.1:${e2bPort}`
  // The key watch sees the new Secret shortly after it is written.
  for (let i = 0; (yield* Http.call(`${serverUrl}/v2/sandboxes`, { key })).status !== 200; i++) {
    if (i > 300) return yield* Effect.fail("the API key never became valid on the E2B API")
    yield* Effect.sleep("100 millis")
  }
  progress(`operator ready: ${operator.description}; E2B API and envd on ${serverUrl}`)
  const quiet = () =>
    awaitWarm({
      namespace,
      pool: poolName,
      minIdle: options.replicas,
      operatorView: true,
      apiUrl: operator.apiUrl,
      adminKey: key,
      timeout: Duration.minutes(5),
    })
  yield* quiet()
  progress(`warm pool of ${options.replicas} idle+Ready Pods`)
  yield* Sdk.useSdkEnvironment({ E2B_API_URL: serverUrl, E2B_SANDBOX_URL: serverUrl, E2B_API_KEY: key })

  const processes: ReadonlyArray<NamedProcess> = [
    ...processesUnder(controlPlane.dataDir),
    ...(operator.pid === undefined ? [] : [{ name: "operator", pid: operator.pid }]),
  ]
  const rows: Array<Row> = []
  /** Runs an untimed warm-up, then the timed load, with each process's CPU per operation. */
  const measure = <R>(
    row: { kind: RowKind; label: string; concurrency: number; count: number; bytes?: number; note?: string },
    operation: (index: number) => Effect.Effect<void, string, R>,
    warmup = Options.warmupCount,
  ) =>
    Effect.gen(function* () {
      progress(
        `${row.label}${row.bytes === undefined ? "" : ` (${row.bytes} bytes)`}: ${row.count} at c=${row.concurrency}`,
      )
      if (warmup > 0)
        yield* runLoad({ count: warmup, concurrency: row.concurrency, timeLimit }, (i) => operation(-1 - i))
      const api0 = yield* ApiRequests.sample
      const cpu0 = cpuSnapshot(processes)
      const result: LoadResult = yield* runLoad(
        { count: row.count, concurrency: row.concurrency, timeLimit },
        operation,
      )
      const cpu = perOperation(cpuBetween(cpu0, cpuSnapshot(processes)), result.latencies.length)
      const api = ApiRequests.perOperation(api0, yield* ApiRequests.sample, result.latencies.length)
      const { count: _, ...described } = row
      rows.push({ ...described, result, cpu, api })
      return result
    })

  // Sandbox.create from a quiet warm pool, each killed right after (kills timed on their own).
  // Rounds of half the pool, then the pool is refilled untimed: no create waits for a Pod.
  const round = Math.max(1, Math.floor(options.replicas / 2))
  const created: Array<Sandbox> = []
  const takeCreated = Effect.sync(() => created.shift())
  const createLatencies: Array<number> = []
  const killLatencies: Array<number> = []
  const createFailures = new Map<string, number>()
  const killFailures = new Map<string, number>()
  const cpuCreate0 = cpuSnapshot(processes)
  let createSeconds = 0
  let killSeconds = 0
  let createAttempted = 0
  // Warm-up (untimed): a few creates and kills, and one command, so neither side runs cold.
  for (let i = 0; i < Math.min(round, 4); i++) {
    const sandbox = yield* Sdk.create(poolName)
    yield* Sdk.run(sandbox, "true")
    yield* Sdk.kill(sandbox)
  }
  for (let done = 0; done < options.creates; done += round) {
    yield* quiet()
    const n = Math.min(round, options.creates - done)
    const creates = yield* runLoad({ count: n, concurrency: 1, timeLimit }, () =>
      Effect.map(Sdk.create(poolName), (sandbox) => {
        created.push(sandbox)
      }),
    )
    const kills = yield* runLoad({ count: created.length, concurrency: 1, timeLimit }, () =>
      Effect.flatMap(takeCreated, (sandbox) => (sandbox === undefined ? Effect.void : Sdk.kill(sandbox))),
    )
    createLatencies.push(...creates.latencies)
    killLatencies.push(...kills.latencies)
    for (const [reason, k] of creates.failures)
      createFailures.set(reason, (createFailures.get(reason) ?? 0) + k)
    for (const [reason, k] of kills.failures) killFailures.set(reason, (killFailures.get(reason) ?? 0) + k)
    createSeconds += creates.seconds
    killSeconds += kills.seconds
    createAttempted += creates.attempted
  }
  progress(`Sandbox.create: ${createLatencies.length} timed`)
  // Creates and kills alternate; their CPU is reported together, per create+kill.
  const createCpu = perOperation(cpuBetween(cpuCreate0, cpuSnapshot(processes)), createLatencies.length)
  rows.push({
    kind: "create",
    label: "Sandbox.create",
    concurrency: 1,
    result: {
      latencies: createLatencies,
      failures: createFailures,
      attempted: createAttempted,
      seconds: createSeconds,
    },
    cpu: createCpu,
    note: `from a quiet pool of ${options.replicas}, ${round} per round, refilled between rounds (untimed); CPU per create+kill, the refills and the benchmark's polling for them included`,
  })
  rows.push({
    kind: "kill",
    label: "sandbox.kill",
    concurrency: 1,
    result: {
      latencies: killLatencies,
      failures: killFailures,
      attempted: killLatencies.length + [...killFailures.values()].reduce((a, b) => a + b, 0),
      seconds: killSeconds,
    },
    cpu: new Map(),
    note: "CPU counted with the creates",
  })

  // The sandboxes the command and file rows use, held until the end; then the pool is refilled.
  const held: Array<Sandbox> = []
  yield* Effect.addFinalizer(() =>
    Effect.forEach(held, (sandbox) => Effect.ignore(Sdk.kill(sandbox)), { discard: true }),
  )
  yield* quiet()
  for (let i = 0; i < options.concurrency; i++) held.push(yield* Sdk.create(poolName))
  const endpoints: ReadonlyArray<SandboxEndpoint> = yield* Effect.forEach(held, (sandbox) =>
    endpointOf(namespace, serverUrl, key, sandbox.sandboxId),
  )
  yield* quiet()
  progress(`${held.length} sandboxes held; pool refilled`)
  const first = held[0]!
  const firstEndpoint = endpoints[0]!
  const c = options.concurrency
  const runs = options.runs
  const withSandbox = yield* exclusive(held)
  const withEndpoint = yield* exclusive(endpoints)

  yield* measure({ kind: "health", label: "envd GET /health (no exec)", concurrency: 1, count: runs }, () =>
    health(serverUrl, firstEndpoint),
  )
  yield* measure({ kind: "sdk-run", label: "commands.run('true')", concurrency: 1, count: runs }, () =>
    Sdk.run(first, "true"),
  )
  yield* measure({ kind: "exec-true", label: "bare exec `true`", concurrency: 1, count: runs }, () =>
    bareExec(firstEndpoint, bareCommands.true),
  )
  yield* measure(
    { kind: "exec-sdk-command", label: "bare exec `/bin/bash -l -c true`", concurrency: 1, count: runs },
    () => bareExec(firstEndpoint, bareCommands.sdkCommand),
  )
  yield* measure(
    { kind: "exec-envd-launch", label: "bare exec of envd's launch of it", concurrency: 1, count: runs },
    () => bareExec(firstEndpoint, bareCommands.envdLaunch),
  )
  if (c > 1) {
    const across = `one per sandbox, ${c} sandboxes`
    yield* measure(
      { kind: "health", label: "envd GET /health (no exec)", concurrency: c, count: runs, note: across },
      () => withEndpoint((endpoint) => health(serverUrl, endpoint)),
    )
    yield* measure(
      { kind: "sdk-run", label: "commands.run('true')", concurrency: c, count: runs, note: across },
      () => withSandbox((sandbox) => Sdk.run(sandbox, "true")),
    )
    yield* measure(
      { kind: "exec-true", label: "bare exec `true`", concurrency: c, count: runs, note: across },
      () => withEndpoint((endpoint) => bareExec(endpoint, bareCommands.true)),
    )
  }

  // Files on one sandbox, one at a time; every read is checked against what was written.
  for (const [size, rounds] of [
    [kib, options.smallFiles],
    [mib, options.largeRounds],
    [10 * mib, options.largeRounds],
  ] as const) {
    const payload = new Uint8Array(size).map(() => Math.floor(Math.random() * 256))
    const path = (i: number) => `bench-files/${size}-${i < 0 ? `warm${-i}` : i}.bin`
    const warm = size >= 10 * mib ? 1 : Math.min(Options.warmupCount, rounds)
    yield* measure(
      { kind: "write", label: "files.write", concurrency: 1, count: rounds, bytes: size },
      (i) => Sdk.write(first, path(i), payload),
      warm,
    )
    yield* measure(
      { kind: "read", label: "files.read", concurrency: 1, count: rounds, bytes: size },
      (i) => Sdk.readBack(first, path(i), payload),
      warm,
    )
  }

  const report = {
    title: `E2B SDK benchmark (${host.startedAt})`,
    header: [
      `Host: ${hostLine(host)}.`,
      `Code: ${code}.`,
      `Control plane: local (etcd, kube-apiserver, scheduler, controller manager, KWOK with ${nodes} fake node; Pods Ready as soon as scheduled, and exec runs the command as a local process on this host — no container runtime).`,
      `Operator: ${operator.description}; E2B API and envd on ${serverUrl}.`,
      `Client: the unchanged npm \`e2b\` ${sdkVersion} in this process, pointed at the server by E2B_API_URL, E2B_SANDBOX_URL and E2B_API_KEY only; template = the pool \`${poolName}\` (${options.replicas} warm Pods).`,
      `Each row after ${Options.warmupCount} untimed operations of its kind (1 for 10 MiB files); latency = call to resolved promise; closed loop (c workers, each waits for its answer). c>1 rows keep one operation per sandbox at a time over ${c} held sandboxes.`,
      "Bare exec rows: `Exec.execCollect` of @agent-sandbox/kube (what envd uses) from this process with the admin kubeconfig, on the Pod of the first held sandbox — the floor under any command.",
      "Files: payloads of random bytes written to the sandbox's home and read back (each read compared with what was written); MiB/s = payload × ok ÷ wall time of the row.",
    ],
    footer: [
      `Load average at the end: ${describeHost()
        .loadAverage.map((l) => l.toFixed(2))
        .join(" / ")}.`,
    ],
    rows,
    aimMillis,
  }
  const markdown = render(report)
  process.stdout.write(markdown)
  if (options.out !== undefined) writeFileSync(options.out, markdown)
  progress(`operator log${options.cpuProfile ? " and CPU profile (written when it stops)" : ""}: ${workDir}`)
})

program.pipe(
  Effect.scoped,
  Effect.provide(BenchCluster.layer({ nodes })),
  Effect.provide(stderrLogger),
  NodeRuntime.runMain({ disablePrettyLogger: true }),
)
