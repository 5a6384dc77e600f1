/**
 * Measures the allocation hot path: a resourceVersion-checked merge PATCH of one Pod's labels.
 * Usage: KUBECONFIG=... node packages/kube/scripts/bench-patch.ts [sequential=200] [concurrent=2000] [concurrency=16]
 * Creates a namespace with `concurrency` Pods, waits for them to settle, patches them,
 * prints p50/p90/p99 of sequential patches and the throughput at the given concurrency, and
 * deletes the namespace.
 */
import { Effect, Layer } from "effect"
import { KubeClient, type KubeClientOptions, layerWith } from "../src/KubeClient.ts"
import * as KubeConfig from "../src/KubeConfig.ts"
import type { KubeError } from "../src/KubeError.ts"
import * as Patch from "../src/Patch.ts"
import * as ResourceType from "../src/ResourceType.ts"

const [sequential = 200, total = 2000, concurrency = 16] = process.argv.slice(2).map(Number)
const http2 = process.env.BENCH_HTTP2 !== "0"
const connections = Number(process.env.BENCH_CONNECTIONS ?? (http2 ? 4 : 16))

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!

const program = Effect.gen(function* () {
  const client = yield* KubeClient
  const namespace = `bench-${Date.now().toString(36)}`
  yield* client.create(ResourceType.Namespace, { metadata: { name: namespace } })
  yield* Effect.forEach(
    Array.from({ length: concurrency }, (_, i) => `pod-${i}`),
    (name) =>
      client.create(ResourceType.Pod, {
        metadata: { name, namespace, labels: { state: "idle" } },
        spec: { containers: [{ name: "main", image: "busybox" }] },
      }),
    { concurrency: 4 },
  )
  // With a scheduler (and KWOK) the Pods change while they start; let them settle first.
  const settled = (phase: string | undefined) => phase === "Running" || phase === undefined
  for (let i = 0; i < 100; i++) {
    const list = yield* client.list(ResourceType.Pod, { namespace })
    const phases = list.items.map((pod) => pod.status?.phase)
    if (phases.every((phase) => phase === "Running") || (i >= 10 && phases.every(settled))) break
    yield* Effect.sleep("200 millis")
  }
  const listed = yield* client.list(ResourceType.Pod, { namespace })
  const versions = new Map(listed.items.map((pod) => [pod.metadata!.name!, pod.metadata!.resourceVersion!]))
  let conflicts = 0
  // A 409 (the Pod changed under us) is what the allocator meets too: re-read, count, retry.
  const claim = (name: string, i: number): Effect.Effect<void, KubeError> =>
    client
      .patch(
        ResourceType.Pod,
        name,
        Patch.merge({ metadata: { resourceVersion: versions.get(name), labels: { state: `claimed-${i}` } } }),
        { namespace },
      )
      .pipe(
        Effect.flatMap((pod) => Effect.sync(() => versions.set(name, pod.metadata!.resourceVersion!))),
        Effect.catchIf(
          (error) => error.reason === "Conflict",
          () =>
            Effect.flatMap(client.get(ResourceType.Pod, name, { namespace }), (pod) =>
              Effect.suspend(() => {
                conflicts++
                versions.set(name, pod.metadata!.resourceVersion!)
                return claim(name, i)
              }),
            ),
        ),
      )
  // Warm-up: connections and the server's caches.
  for (let i = 0; i < 20; i++) yield* claim("pod-0", i)

  const latencies: Array<number> = []
  for (let i = 0; i < sequential; i++) {
    const start = performance.now()
    yield* claim("pod-0", i)
    latencies.push(performance.now() - start)
  }
  latencies.sort((a, b) => a - b)

  const perWorker = Math.ceil(total / concurrency)
  const cpuBefore = process.cpuUsage()
  const start = performance.now()
  yield* Effect.forEach(
    Array.from({ length: concurrency }, (_, w) => w),
    (w) =>
      Effect.gen(function* () {
        for (let i = 0; i < perWorker; i++) yield* claim(`pod-${w}`, i)
      }),
    { concurrency: "unbounded", discard: true },
  )
  const seconds = (performance.now() - start) / 1000
  const cpu = process.cpuUsage(cpuBefore)
  yield* client.delete(ResourceType.Namespace, namespace)
  return {
    conflicts,
    transport: http2
      ? `HTTP/2, ${connections} connection(s)`
      : `HTTP/1.1 keep-alive, ${connections} connections`,
    sequential: {
      count: sequential,
      p50: percentile(latencies, 0.5).toFixed(2),
      p90: percentile(latencies, 0.9).toFixed(2),
      p99: percentile(latencies, 0.99).toFixed(2),
    },
    concurrent: {
      patches: perWorker * concurrency,
      concurrency,
      perSecond: Math.round((perWorker * concurrency) / seconds),
      clientCpuMillisPerPatch: ((cpu.user + cpu.system) / 1000 / (perWorker * concurrency)).toFixed(3),
    },
  }
})

const options: Partial<KubeClientOptions> = { http2, connections }
const result = await Effect.runPromise(
  program.pipe(Effect.provide(layerWith(options).pipe(Layer.provide(KubeConfig.layerFromDefault)))),
)
console.log(JSON.stringify(result, null, 2))
