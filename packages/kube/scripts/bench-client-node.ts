/**
 * Baseline for bench-patch.ts: the same resourceVersion-checked merge PATCH through
 * @kubernetes/client-node's generated CoreV1Api. Usage as bench-patch.ts.
 */
import * as k8s from "@kubernetes/client-node"

const [sequential = 200, total = 2000, concurrency = 16] = process.argv.slice(2).map(Number)
const config = new k8s.KubeConfig()
config.loadFromDefault()
const core = config.makeApiClient(k8s.CoreV1Api)
const merge = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch)
const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!

const namespace = `bench-cn-${Date.now().toString(36)}`
await core.createNamespace({ body: { metadata: { name: namespace } } })
const versions = new Map<string, string>()
for (let i = 0; i < concurrency; i++) {
  const pod = await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: `pod-${i}`, labels: { state: "idle" } },
      spec: { containers: [{ name: "main", image: "busybox" }] },
    },
  })
  versions.set(`pod-${i}`, pod.metadata!.resourceVersion!)
}
// Let the Pods settle (scheduled, started by KWOK) before measuring, as bench-patch.ts does.
for (let i = 0; i < 100; i++) {
  const list = await core.listNamespacedPod({ namespace })
  if (list.items.every((pod) => pod.status?.phase === "Running") || i >= 10) break
  await new Promise((resolve) => setTimeout(resolve, 200))
}
for (const pod of (await core.listNamespacedPod({ namespace })).items) {
  versions.set(pod.metadata!.name!, pod.metadata!.resourceVersion!)
}
let conflicts = 0
// A 409 (the Pod changed under us): re-read, count, retry.
const claim = async (name: string, i: number): Promise<void> => {
  try {
    const pod = await core.patchNamespacedPod(
      {
        name,
        namespace,
        body: { metadata: { resourceVersion: versions.get(name), labels: { state: `claimed-${i}` } } },
      },
      merge,
    )
    versions.set(name, pod.metadata!.resourceVersion!)
  } catch (error) {
    if ((error as { code?: number }).code !== 409) throw error
    conflicts++
    versions.set(name, (await core.readNamespacedPod({ name, namespace })).metadata!.resourceVersion!)
    return claim(name, i)
  }
}
for (let i = 0; i < 20; i++) await claim("pod-0", i)
const latencies: Array<number> = []
for (let i = 0; i < sequential; i++) {
  const start = performance.now()
  await claim("pod-0", i)
  latencies.push(performance.now() - start)
}
latencies.sort((a, b) => a - b)
const perWorker = Math.ceil(total / concurrency)
const cpuBefore = process.cpuUsage()
const start = performance.now()
await Promise.all(
  Array.from({ length: concurrency }, async (_, w) => {
    for (let i = 0; i < perWorker; i++) await claim(`pod-${w}`, i)
  }),
)
const seconds = (performance.now() - start) / 1000
const cpu = process.cpuUsage(cpuBefore)
await core.deleteNamespace({ name: namespace })
console.log(
  JSON.stringify({
    conflicts,
    transport: "client-node CoreV1Api",
    sequential: {
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
  }),
)
