/**
 * Measures the exec round trip envd's `commands.run` is built on: one WebSocket exec of `true`
 * through the API server to a KWOK Pod, run to completion.
 * Usage: KUBECONFIG=... node packages/kube/scripts/bench-exec.ts [sequential=300] [concurrent=400] [concurrency=8]
 * Creates a namespace with one Pod, waits until exec is served, times sequential execs (p50/p90/p99)
 * and a concurrent batch (execs per second), each with the client's CPU per exec, and deletes the
 * namespace.
 */
import { Effect, Layer, Schedule } from "effect"
import * as Exec from "../src/Exec.ts"
import { KubeClient, layer } from "../src/KubeClient.ts"
import * as KubeConfig from "../src/KubeConfig.ts"
import * as ResourceType from "../src/ResourceType.ts"

const [sequential = 300, total = 400, concurrency = 8] = process.argv.slice(2).map(Number)

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!

const cpuMillis = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000

const program = Effect.gen(function* () {
  const client = yield* KubeClient
  const namespace = `bench-exec-${Date.now().toString(36)}`
  yield* Effect.acquireRelease(client.create(ResourceType.Namespace, { metadata: { name: namespace } }), () =>
    Effect.ignore(client.delete(ResourceType.Namespace, namespace)),
  )
  yield* client.create(ResourceType.Pod, {
    metadata: { name: "target", namespace },
    spec: { containers: [{ name: "main", image: "busybox" }], tolerations: [{ operator: "Exists" }] },
  })
  const target = { namespace, pod: "target", container: "main", command: ["true"] }
  const run = Exec.execCollect(target).pipe(
    Effect.filterOrFail(
      (result) => result.exitCode === 0,
      (result) => new Error(`exit code ${result.exitCode}: ${result.stderr}`),
    ),
  )
  // Running and Ready, then KWOK serves exec a moment later: retry until it does.
  yield* run.pipe(Effect.retry(Schedule.spaced("250 millis")), Effect.timeout("120 seconds"))
  for (let i = 0; i < 20; i++) yield* run

  const latencies: Array<number> = []
  const sequentialCpu = process.cpuUsage()
  for (let i = 0; i < sequential; i++) {
    const start = performance.now()
    yield* run
    latencies.push(performance.now() - start)
  }
  const sequentialCpuMillis = cpuMillis(process.cpuUsage(sequentialCpu))
  latencies.sort((a, b) => a - b)

  const perWorker = Math.ceil(total / concurrency)
  const concurrentCpu = process.cpuUsage()
  const start = performance.now()
  yield* Effect.forEach(
    Array.from({ length: concurrency }, (_, w) => w),
    () =>
      Effect.gen(function* () {
        for (let i = 0; i < perWorker; i++) yield* run
      }),
    { concurrency: "unbounded", discard: true },
  )
  const seconds = (performance.now() - start) / 1000
  const concurrentCpuMillis = cpuMillis(process.cpuUsage(concurrentCpu))
  return {
    sequential: {
      count: sequential,
      p50: percentile(latencies, 0.5).toFixed(2),
      p90: percentile(latencies, 0.9).toFixed(2),
      p99: percentile(latencies, 0.99).toFixed(2),
      clientCpuMillisPerExec: (sequentialCpuMillis / sequential).toFixed(3),
    },
    concurrent: {
      execs: perWorker * concurrency,
      concurrency,
      perSecond: Math.round((perWorker * concurrency) / seconds),
      clientCpuMillisPerExec: (concurrentCpuMillis / (perWorker * concurrency)).toFixed(3),
    },
  }
})

const environment = layer.pipe(Layer.provideMerge(KubeConfig.layerFromDefault))
const result = await Effect.runPromise(program.pipe(Effect.scoped, Effect.provide(environment)))
console.log(JSON.stringify(result, null, 2))
