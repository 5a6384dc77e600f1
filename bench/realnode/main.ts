/**
 * npm run bench:realnode — the sandbox path on real containers (the real node: kubelet +
 * containerd + runc on this machine, the Python image built here), through the unchanged E2B JS SDK:
 *   - time to first instruction: Sandbox.create → the first output of commands.run("python3 -c …"),
 *     at c=1 and c=8, each sandbox killed (untimed) and recycled in place for the next;
 *   - an image swap in place (Sandbox.create of a runtime on the image's second tag: the claim's
 *     one write changes the image, the kubelet restarts the container, the response waits for Ready)
 *     beside a fresh Pod of that image (create → Ready), the path it replaces.
 * The operator runs in this process (the E2B harness of the server tests). Markdown on stdout.
 */

import { SandboxPod } from "@agent-sandbox/operator/internal"
import { ControlPlane, RealNode } from "@agent-sandbox/testing"
import { E2bOperator, Pools } from "@agent-sandbox/testing/operator"
import { NodeRuntime } from "@effect/platform-node"
import * as k8s from "@kubernetes/client-node"
import { Sandbox } from "e2b"
import { Duration, Effect, Layer } from "effect"
import { useSdkEnvironment } from "../../packages/sdk-tests/test/support/SdkServer.ts"
import * as BenchCluster from "../support/BenchCluster.ts"
import { codeVersion, describeHost, hostLine } from "../support/Host.ts"
import { runLoad } from "../support/LoadLoop.ts"
import { progress, stderrLogger } from "../support/Log.ts"
import { type LatencySummary, summarize } from "../support/Stats.ts"

const arg = (name: string, fallback: number) => {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`))
  return found === undefined ? fallback : Number(found.split("=")[1])
}
const replicas = arg("replicas", 10)
const samplesC1 = arg("samples", 40)
const roundsC8 = arg("rounds", 6)
const swaps = arg("swaps", 12)
const [python1, python2] = RealNode.images.python

const pool = {
  replicas,
  // No node agent here: the recycle in place this bench measures needs the opt-in.
  recyclePolicy: { type: "InPlace", acceptPodStateCarryOver: true },
  sandbox: { defaultTimeoutSeconds: 600, maxTimeoutSeconds: 3600, startupTimeoutSeconds: 120 },
  template: {
    podTemplate: {
      spec: RealNode.sandboxPodSpec(python1),
    },
    runtimes: [{ name: "py2", image: python2 }],
  },
}

const sdk = <A>(run: () => Promise<A>) =>
  Effect.tryPromise({ try: run, catch: (e) => `${e instanceof Error ? e.message.split("\n")[0] : e}` })

/** Until `count` Pods of the pool are idle and Ready on their pool image (recycles done). */
const warm = (namespace: string, count: number) =>
  Effect.gen(function* () {
    for (let i = 0; ; i++) {
      const pods = yield* Pools.poolPods(namespace, "base")
      const idle = pods.items.filter((pod) => {
        const read = SandboxPod.read(pod)
        return read?.state === "idle" && read.ready && pod.metadata?.deletionTimestamp === undefined
      }).length
      if (idle >= count) return
      if (i > 1200) return yield* Effect.fail(`only ${idle} of ${count} Pods warm after 2 minutes`)
      yield* Effect.sleep("100 millis")
    }
  })

/** Create → first output of a Python command; the kill afterwards is not timed. */
const firstInstruction = (latencies: Array<number>, killed: Array<Promise<unknown>>) =>
  Effect.gen(function* () {
    const t0 = performance.now()
    const sandbox = yield* sdk(() => Sandbox.create("base", { timeoutMs: 600_000 }))
    const output = yield* sdk(() => sandbox.commands.run(`python3 -c "print(6*7)"`))
    latencies.push(performance.now() - t0)
    if (output.stdout !== "42\n")
      return yield* Effect.fail(`unexpected output ${JSON.stringify(output.stdout)}`)
    killed.push(sandbox.kill())
  })

const freshPod = (core: k8s.CoreV1Api, namespace: string, index: number) =>
  Effect.gen(function* () {
    const name = `fresh-${index}`
    const t0 = performance.now()
    yield* sdk(() =>
      core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name },
          spec: RealNode.sandboxPodSpec(python2),
        },
      }),
    )
    for (;;) {
      const pod = yield* sdk(() => core.readNamespacedPod({ name, namespace }))
      if (pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")) break
      yield* Effect.sleep("20 millis")
    }
    const elapsed = performance.now() - t0
    yield* sdk(() => core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }))
    return elapsed
  })

const row = (label: string, summary: LatencySummary, note: string) =>
  `| ${label} | ${summary.count} | ${summary.p50.toFixed(0)} | ${summary.p99.toFixed(0)} | ${summary.max.toFixed(0)} | ${note} |`

const program = Effect.gen(function* () {
  progress(`${hostLine(describeHost())}; ${codeVersion()}`)
  const controlPlane = yield* ControlPlane.ControlPlane
  yield* RealNode.RealNode
  const server = yield* E2bOperator.start({ prefix: "bench-realnode", pool })
  yield* useSdkEnvironment({
    E2B_API_URL: server.url,
    E2B_SANDBOX_URL: server.url,
    E2B_API_KEY: server.keys.tenantA,
  })
  yield* warm(server.namespace, replicas)
  progress(`warm pool of ${replicas} Pods on the real node`)

  const rows: Array<string> = []
  // Warm-up, untimed.
  yield* firstInstruction([], [])

  const c1: Array<number> = []
  for (let i = 0; i < samplesC1; i++) {
    const killed: Array<Promise<unknown>> = []
    yield* warm(server.namespace, replicas)
    yield* firstInstruction(c1, killed)
    yield* Effect.promise(() => Promise.all(killed))
  }
  progress(`c=1: ${c1.length}`)
  rows.push(row("claim → first output, c=1", summarize(c1), "from a full warm pool"))

  const c8: Array<number> = []
  for (let round = 0; round < roundsC8; round++) {
    yield* warm(server.namespace, replicas)
    const killed: Array<Promise<unknown>> = []
    const load = yield* runLoad({ count: 8, concurrency: 8, timeLimit: Duration.minutes(2) }, () =>
      firstInstruction(c8, killed),
    )
    if (load.failures.size > 0) progress(`c=8 failures: ${[...load.failures].join(", ")}`)
    yield* Effect.promise(() => Promise.all(killed))
  }
  progress(`c=8: ${c8.length}`)
  rows.push(row("claim → first output, c=8", summarize(c8), `rounds of 8 from a warm pool of ${replicas}`))

  const swapped: Array<number> = []
  for (let i = 0; i < swaps; i++) {
    yield* warm(server.namespace, replicas)
    const t0 = performance.now()
    const sandbox = yield* sdk(() => Sandbox.create("base:py2", { timeoutMs: 600_000 }))
    swapped.push(performance.now() - t0)
    yield* sdk(() => sandbox.kill())
  }
  rows.push(
    row(
      "image swap in place (create of runtime py2)",
      summarize(swapped),
      "claim + kubelet restart on python:2 + Ready",
    ),
  )

  const config = new k8s.KubeConfig()
  config.loadFromFile(controlPlane.kubeconfigPath)
  const core = config.makeApiClient(k8s.CoreV1Api)
  const fresh: Array<number> = []
  for (let i = 0; i < swaps; i++) fresh.push(yield* freshPod(core, server.namespace, i))
  rows.push(
    row("fresh Pod of python:2 (create → Ready)", summarize(fresh), "scheduler + sandbox + container start"),
  )

  const report = [
    `Real node (kubelet v1.36.3, containerd 2.3.7, runc 1.1.5), image ${python1} / ${python2}, E2B JS SDK; ${hostLine(describeHost())}`,
    "",
    "| what | n | p50 ms | p99 ms | max ms | note |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n")
  process.stdout.write(`${report}\n`)
})

program.pipe(
  Effect.scoped,
  Effect.provide(Layer.provideMerge(RealNode.layer(), BenchCluster.layer({ nodes: 1 }))),
  Effect.provide(stderrLogger),
  NodeRuntime.runMain({ disablePrettyLogger: true }),
)
