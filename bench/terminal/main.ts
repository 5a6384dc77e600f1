/**
 * npm run bench:terminal — keystroke echo round trip through wsproxy: N terminals open at once
 * (default 50, one sandbox each, KWOK Pods on a local control plane), each typing K keys one at a
 * time (default 40) and timing each from the send until its echo comes back (page -> wsproxy ->
 * API server exec -> the sandbox's TTY -> back). Reports p50/p95/p99/max over all keys.
 * Flags: --sessions=N, --keys=K, --out=file.md.
 */
import { writeFileSync } from "node:fs"
import { KubeConfig } from "@agent-sandbox/kube"
import { FreePorts, Http } from "@agent-sandbox/testing"
import { OperatorHarness, OperatorNamespaces } from "@agent-sandbox/testing/operator"
import { NodeRuntime } from "@effect/platform-node"
import { Duration, Effect, Layer } from "effect"
import { WebSocket } from "ws"
import * as Wsproxy from "../../packages/wsproxy/src/Wsproxy.ts"
import * as WsproxyConfig from "../../packages/wsproxy/src/WsproxyConfig.ts"
import * as BenchCluster from "../support/BenchCluster.ts"
import { codeVersion, describeHost, hostLine } from "../support/Host.ts"
import { progress, stderrLogger } from "../support/Log.ts"
import { summarize } from "../support/Stats.ts"
import { awaitWarm, createBenchPool } from "../support/WarmPool.ts"

const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1]
const sessions = Number(flag("sessions") ?? 50)
const keys = Number(flag("keys") ?? 40)
const out = flag("out")
const poolName = "bench"
const keyTimeoutMillis = 30_000

/** One terminal: open, wait for the prompt, type `keys` letters timing each echo, then close. */
const typeInto = (url: string): Promise<ReadonlyArray<number>> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    const latencies: Array<number> = []
    let screen = ""
    let waiting: ((text: string) => void) | undefined
    const fail = (why: string) => {
      ws.terminate()
      reject(new Error(why))
    }
    ws.on("message", (data: Buffer) => {
      screen += data.toString("utf8")
      waiting?.(data.toString("utf8"))
    })
    ws.on("error", (error) => fail(error.message))
    ws.on("close", (code, reason) => {
      if (latencies.length < keys) fail(`closed early: ${code} ${reason.toString()}`)
    })
    const until = (check: (chunk: string) => boolean) =>
      new Promise<void>((done, timedOut) => {
        const timer = setTimeout(
          () => timedOut(new Error(`no echo in ${keyTimeoutMillis} ms`)),
          keyTimeoutMillis,
        )
        waiting = (chunk) => {
          if (!check(chunk)) return
          clearTimeout(timer)
          waiting = undefined
          done()
        }
      })
    ws.on("open", async () => {
      try {
        if (!/[$#] $/m.test(screen)) await until(() => /[$#] $/m.test(screen))
        for (let i = 0; i < keys; i++) {
          const letter = String.fromCharCode(97 + (i % 26))
          const echoed = until((chunk) => chunk.includes(letter))
          const started = performance.now()
          ws.send(Buffer.from(letter))
          await echoed
          latencies.push(performance.now() - started)
        }
        ws.close(1000, "done")
        resolve(latencies)
      } catch (error) {
        fail(String(error))
      }
    })
  })

const program = Effect.gen(function* () {
  progress(`${hostLine(describeHost())}; ${codeVersion()}`)
  const { namespace, system } = yield* OperatorNamespaces.make("bench-terminal")
  yield* createBenchPool(namespace, poolName, sessions)
  const [apiPort, probePort, wsPort] = yield* FreePorts.freePorts(3)
  const operator = yield* OperatorHarness.startOperator({
    namespace,
    systemNamespace: system,
    apiPort: apiPort!,
    probePort: probePort!,
  })
  const key = yield* OperatorHarness.mintKey(system, "bench")
  const adminKey = yield* OperatorHarness.mintKey(system, "bench-admin", true)
  for (let i = 0; (yield* Http.call(`${operator.apiUrl}/v1/pools`, { key })).status !== 200; i++) {
    if (i > 300) return yield* Effect.fail("the API key never became valid")
    yield* Effect.sleep("100 millis")
  }
  const kubeConfig = yield* KubeConfig.KubeConfig
  yield* Layer.build(
    Wsproxy.layer.pipe(
      Layer.provide(
        WsproxyConfig.layer({
          systemNamespace: system,
          host: "127.0.0.1",
          port: wsPort!,
          apiUrl: operator.apiUrl,
          allowedOrigins: [],
          maxSessionsPerSandbox: 4,
          idleTimeout: Duration.minutes(10),
          pingInterval: Duration.seconds(20),
        }),
      ),
      Layer.provide(Layer.succeed(KubeConfig.KubeConfig, kubeConfig)),
    ),
  )
  yield* awaitWarm({
    namespace,
    pool: poolName,
    minIdle: sessions,
    operatorView: true,
    apiUrl: operator.apiUrl,
    adminKey,
    timeout: Duration.minutes(5),
  })
  const urls = yield* Effect.forEach(
    Array.from({ length: sessions }, (_, i) => i),
    () =>
      Effect.gen(function* () {
        const created = yield* Http.call(`${operator.apiUrl}/v1/sandboxes`, {
          method: "POST",
          key,
          body: { pool: poolName, timeoutSeconds: 600 },
        })
        if (created.status !== 201) return yield* Effect.fail(`allocate: ${created.status}`)
        const grant = yield* Http.call(`${operator.apiUrl}/v1/sandboxes/${created.body.id}/terminal-token`, {
          method: "POST",
          key,
        })
        if (grant.status !== 201) return yield* Effect.fail(`terminal token: ${grant.status}`)
        return `ws://127.0.0.1:${wsPort}${grant.body.path}?token=${encodeURIComponent(grant.body.token)}`
      }),
    { concurrency: 8 },
  )
  progress(`${sessions} sandboxes allocated; typing ${keys} keys in each terminal at once`)
  const started = performance.now()
  const perSession = yield* Effect.tryPromise(() => Promise.all(urls.map(typeInto)))
  const seconds = (performance.now() - started) / 1000
  const s = summarize(perSession.flat())
  const table = [
    "| terminals at once | keys | p50 ms | p95 ms | p99 ms | max ms | keys/s |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    `| ${sessions} | ${s.count} | ${s.p50.toFixed(1)} | ${s.p95.toFixed(1)} | ${s.p99.toFixed(1)} | ${s.max.toFixed(1)} | ${(s.count / seconds).toFixed(0)} |`,
  ].join("\n")
  const report = `${hostLine(describeHost())}; ${codeVersion()}; keystroke echo round trip through wsproxy (KWOK TTY exec)\n\n${table}\n`
  process.stdout.write(report)
  if (out !== undefined) writeFileSync(out, report)
})

program.pipe(
  Effect.scoped,
  Effect.provide(BenchCluster.layer({ nodes: 3 })),
  Effect.provide(stderrLogger),
  NodeRuntime.runMain,
)
