/**
 * npm run bench:rpc — allocation as the client package's users see it, in one run on one local
 * control plane and one operator process: the typed REST client (one HTTP request per call) next to
 * the Effect RPC client over HTTP (NDJSON) and over one WebSocket, at concurrency 1, 16 and 64.
 * Each round allocates `count` sandboxes from a warm pool, then releases them and waits for the
 * pool to be warm again. Flags: --count=N (per round, default 128), --out=file.md.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ControlPlane, FreePorts, Http } from "@agent-sandbox/testing"
import { OperatorHarness, OperatorNamespaces } from "@agent-sandbox/testing/operator"
import { NodeRuntime } from "@effect/platform-node"
import { Duration, Effect, Layer } from "effect"
import { AgentSandboxClient, SandboxRpcClient } from "../../packages/client/src/index.ts"
import * as BenchCluster from "../support/BenchCluster.ts"
import { codeVersion, describeHost, hostLine } from "../support/Host.ts"
import { type LoadResult, perSecond, runLoad } from "../support/LoadLoop.ts"
import { progress, stderrLogger } from "../support/Log.ts"
import { spawnOperator } from "../support/OperatorProcess.ts"
import { summarize } from "../support/Stats.ts"
import { awaitWarm, createBenchPool } from "../support/WarmPool.ts"

const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1]
const count = Number(flag("count") ?? 128)
const out = flag("out")
const levels = [1, 16, 64]
const poolName = "bench"

/** One way to allocate and release, as a client of that kind does it. */
interface Client {
  readonly name: string
  readonly allocate: (i: number) => Effect.Effect<string, string>
  readonly release: (id: string) => Effect.Effect<void, string>
}

const restClient = Effect.map(
  AgentSandboxClient.AgentSandboxClient,
  (client): Client => ({
    name: "REST (typed client, fetch)",
    allocate: (i) =>
      client.sandboxes
        .create({ payload: { pool: poolName, timeoutSeconds: 600, metadata: { bench: `rest-${i}` } } })
        .pipe(
          Effect.map((s) => s.id),
          Effect.mapError((e) => e._tag),
        ),
    release: (id) => client.sandboxes.delete({ path: { id } }).pipe(Effect.mapError((e) => e._tag)),
  }),
)

const rpcClient = (name: string) =>
  Effect.map(
    SandboxRpcClient.SandboxRpcClient,
    (rpc): Client => ({
      name,
      allocate: (i) =>
        rpc.allocate({ pool: poolName, timeoutSeconds: 600, metadata: { bench: `rpc-${i}` } }).pipe(
          Effect.map((s) => s.id),
          Effect.mapError((e) => e._tag),
        ),
      release: (id) => rpc.release({ id }).pipe(Effect.mapError((e) => e._tag)),
    }),
  )

interface Row {
  readonly client: string
  readonly concurrency: number
  readonly result: LoadResult
}

const program = Effect.gen(function* () {
  progress(`${hostLine(describeHost())}; ${codeVersion()}`)
  const controlPlane = yield* ControlPlane.ControlPlane
  const { namespace, system } = yield* OperatorNamespaces.make("bench-rpc")
  yield* createBenchPool(namespace, poolName, count)
  const key = yield* OperatorHarness.mintKey(system, "bench", false, OperatorHarness.noQuotas)
  const adminKey = yield* OperatorHarness.mintKey(system, "bench-admin", true)
  const workDir = mkdtempSync(join(tmpdir(), "agent-sandbox-bench-rpc-"))
  const [apiPort, probePort] = yield* FreePorts.freePorts(2)
  const operator = yield* spawnOperator({
    kubeconfigPath: controlPlane.kubeconfigPath,
    namespace,
    systemNamespace: system,
    apiPort: apiPort!,
    probePort: probePort!,
    logFile: join(workDir, "operator.log"),
  })
  progress(`operator: ${operator.description}`)
  for (let i = 0; (yield* Http.call(`${operator.apiUrl}/v1/pools`, { key })).status !== 200; i++) {
    if (i > 300) return yield* Effect.fail("the API key never became valid")
    yield* Effect.sleep("100 millis")
  }
  const config = { baseUrl: operator.apiUrl, apiKey: key }
  // Built in the run's scope (the RPC clients keep a connection and fibers until it closes); the
  // two RPC transports share one Tag, so each is built from its own layer.
  const rest = yield* restClient.pipe(Effect.provide(yield* Layer.build(AgentSandboxClient.layer(config))))
  const rpcHttp = yield* rpcClient("RPC over HTTP (NDJSON)").pipe(
    Effect.provide(yield* Layer.build(SandboxRpcClient.layerHttp(config))),
  )
  const rpcWebSocket = yield* rpcClient("RPC over WebSocket").pipe(
    Effect.provide(yield* Layer.build(SandboxRpcClient.layerWebSocket(config))),
  )
  const kinds = [rest, rpcHttp, rpcWebSocket]

  const rows: Array<Row> = []
  for (const concurrency of levels) {
    for (const client of kinds) {
      yield* awaitWarm({
        namespace,
        pool: poolName,
        minIdle: count,
        operatorView: true,
        apiUrl: operator.apiUrl,
        adminKey,
        timeout: Duration.minutes(3),
      })
      const ids: Array<string> = []
      const result = yield* runLoad({ count, concurrency, timeLimit: Duration.minutes(2) }, (i) =>
        Effect.map(client.allocate(i), (id) => {
          ids.push(id)
        }),
      )
      const s = summarize(result.latencies)
      progress(
        `${client.name} c=${concurrency}: ${result.latencies.length}/${count} ok, p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, ${perSecond(result).toFixed(0)}/s`,
      )
      rows.push({ client: client.name, concurrency, result })
      yield* Effect.forEach(ids, (id) => Effect.ignore(client.release(id)), {
        concurrency: 16,
        discard: true,
      })
    }
  }
  const table = [
    "| client | concurrency | ok | p50 ms | p95 ms | p99 ms | allocations/s |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows.map(({ client, concurrency, result }) => {
      const s = summarize(result.latencies)
      return `| ${client} | ${concurrency} | ${s.count}/${count} | ${s.p50.toFixed(1)} | ${s.p95.toFixed(1)} | ${s.p99.toFixed(1)} | ${perSecond(result).toFixed(0)} |`
    }),
  ].join("\n")
  const report = `${hostLine(describeHost())}; ${codeVersion()}; ${count} allocations per round\n\n${table}\n`
  process.stdout.write(report)
  if (out !== undefined) writeFileSync(out, report)
  progress(`logs in ${workDir}`)
})

program.pipe(
  Effect.scoped,
  Effect.provide(BenchCluster.layer({ nodes: 3 })),
  Effect.provide(stderrLogger),
  NodeRuntime.runMain,
)
