/**
 * The pool reconciler's read-and-plan step for one pool of N Pods, two ways, in this process (no
 * cluster): every Pod read and planned (what a pass did before PoolLedger, less the sort of every
 * idle Pod's name the plan did then on each pass), and the ledger's counts plus the named Pods (what
 * it does now). CPU per pass, median of `--passes`; each pass follows
 * one claim (a plain idle Pod turned allocated), as in a burst of claims.
 *
 *   node bench/ledger/main.ts --sizes=500,2000,10000 --passes=200
 */
import { parseArgs } from "node:util"
import type { SandboxPool, SandboxTemplateSpec } from "@agent-sandbox/domain"
import type { Pod } from "kubernetes-types/core/v1.js"
import * as PoolLedger from "../../packages/operator/src/cluster/PoolLedger.ts"
import * as PoolFacts from "../../packages/operator/src/pool/PoolFacts.ts"
import * as PoolPlan from "../../packages/operator/src/pool/PoolPlan.ts"
import * as PodFactory from "../../packages/operator/src/sandbox/PodFactory.ts"
import * as SandboxPod from "../../packages/operator/src/sandbox/SandboxPod.ts"

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "500,2000,10000" },
    passes: { type: "string", default: "200" },
  },
})
const sizes = values.sizes.split(",").map(Number)
const passes = Number(values.passes)

const template: SandboxTemplateSpec = {
  podTemplate: { spec: { containers: [{ name: "sandbox", image: "busybox:1.36" }] } },
  runtimes: [],
}
const target = PodFactory.target(template, false)
const now = Date.now()

const poolOf = (replicas: number) =>
  ({
    metadata: { name: "p", namespace: "ns", uid: "u", generation: 1 },
    spec: {
      replicas,
      templateRef: { name: "t" },
      useIdleImage: false,
      sandbox: { defaultTimeoutSeconds: 600, maxTimeoutSeconds: 3600, startupTimeoutSeconds: 60 },
      updateStrategy: { type: "InPlace", maxUnavailable: 1 },
      recyclePolicy: { type: "InPlace", acceptPodStateCarryOver: true },
      burstReserve: "25%",
    },
  }) as unknown as SandboxPool

const idlePod = (name: string): Pod => {
  const built = PodFactory.build({
    pool: { name: "p", namespace: "ns", uid: "u" },
    template,
    useIdleImage: false,
    name,
  })
  return {
    ...built,
    metadata: { ...built.metadata, resourceVersion: "1" },
    status: {
      phase: "Running",
      conditions: [{ type: "Ready", status: "True" }],
      containerStatuses: [
        {
          name: "sandbox",
          image: "busybox:1.36",
          imageID: "",
          containerID: "containerd://c",
          ready: true,
          restartCount: 0,
          state: { running: {} },
        },
      ],
    },
  }
}

const claimed = (pod: Pod, i: number): Pod => ({
  ...pod,
  metadata: {
    ...pod.metadata,
    labels: {
      ...pod.metadata?.labels,
      [SandboxPod.Label.state]: "allocated",
      [SandboxPod.Label.sandboxId]: `sbx${i}`,
    },
    annotations: {
      ...pod.metadata?.annotations,
      [SandboxPod.Annotation.allocatedAt]: new Date(now).toISOString(),
      [SandboxPod.Annotation.expiresAt]: new Date(now + 600_000).toISOString(),
    },
  },
})

const cpuMs = (f: () => void): number => {
  const start = process.cpuUsage()
  f()
  const used = process.cpuUsage(start)
  return (used.user + used.system) / 1000
}
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0

const rows: Array<string> = []
for (const size of sizes) {
  const pool = poolOf(size)
  const pods = new Map<string, Pod>()
  const ledger = PoolLedger.make()
  for (let i = 0; i < size; i++) {
    const name = `p-${String(i).padStart(6, "0")}`
    const pod = idlePod(name)
    pods.set(`ns/${name}`, pod)
    PoolLedger.upsert(ledger, `ns/${name}`, pod)
  }
  const keys = Array.from(pods.keys())
  const walk: Array<number> = []
  const counted: Array<number> = []
  for (let pass = 0; pass < passes; pass++) {
    // One claim, as the watch shows it: the store and the ledger take the new version.
    const key = keys[pass % keys.length] ?? ""
    const next = claimed(pods.get(key) as Pod, pass)
    pods.set(key, next)
    PoolLedger.upsert(ledger, key, next)
    const policy = PoolFacts.policyOf(pool, now)
    const common = { policy, pendingCreates: 0, waiting: 0, lastActivityAt: now, now }
    walk.push(
      cpuMs(() => {
        const read = Array.from(pods.values()).flatMap((pod) => {
          const view = SandboxPod.read(pod)
          return view === undefined ? [] : [{ pod, view }]
        })
        const facts = PoolFacts.podFacts({ pool, target, pods: read, updatesWritten: new Map(), now })
        PoolPlan.plan({ ...common, pods: facts })
      }),
    )
    counted.push(
      cpuMs(() => {
        const reading = PoolLedger.read(PoolLedger.poolOf(ledger, "ns/p", "u"), target.revision, now)
        const read = reading.named.flatMap((name) => {
          const pod = pods.get(`ns/${name}`)
          const view = pod === undefined ? undefined : SandboxPod.read(pod)
          return pod === undefined || view === undefined ? [] : [{ pod, view }]
        })
        const facts = PoolFacts.podFacts({ pool, target, pods: read, updatesWritten: new Map(), now })
        PoolPlan.plan({
          ...common,
          pods: facts,
          plain: {
            idle: reading.plainIdle,
            allocated: reading.plainAllocated,
            nextExpiry: reading.nextExpiry,
            idleNames: reading.plainIdleNames,
          },
        })
      }),
    )
  }
  rows.push(`| ${size} | ${median(walk).toFixed(3)} | ${median(counted).toFixed(3)} |`)
}
console.log(`CPU ms per reconcile pass (median of ${passes}), one pool, one claim before each pass:\n`)
console.log(
  "| Pods in the pool | every Pod read and planned (before) | PoolLedger counts + named Pods (now) |",
)
console.log("| --: | --: | --: |")
for (const row of rows) console.log(row)
