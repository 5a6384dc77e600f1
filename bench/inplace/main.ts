/**
 * npm run bench:inplace — in place vs recreate, with the same simulated kubelet delays (KWOK plays
 * an image pull+start on a running Pod and a new Pod's cold start; see bench/README.md):
 *  1. time to serve a new image: a per-request image swapped into a warm Pod in place, against a
 *     fresh Pod of that image created and watched until Running+Ready;
 *  2. Pod creates and deletes per 1,000 requests (allocate + release) for recyclePolicy InPlace
 *     against Delete.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ControlPlane, FreePorts, Http, PodEvents } from "@agent-sandbox/testing"
import { InPlace, OperatorHarness, OperatorNamespaces } from "@agent-sandbox/testing/operator"
import { NodeRuntime } from "@effect/platform-node"
import { Duration, Effect } from "effect"
import { coldStart } from "../allocation/ColdStart.ts"
import * as BenchCluster from "../support/BenchCluster.ts"
import { codeVersion, describeHost, hostLine } from "../support/Host.ts"
import { runLoad } from "../support/LoadLoop.ts"
import { progress, stderrLogger } from "../support/Log.ts"
import { spawnOperator } from "../support/OperatorProcess.ts"
import { awaitWarm } from "../support/WarmPool.ts"
import * as Options from "./Options.ts"
import { type ChurnRow, type ImageRow, render } from "./Report.ts"

const options = Options.parse(process.argv.slice(2))
const poolImage = "busybox:1.36"
const timeLimit = Duration.minutes(10)

const program = Effect.gen(function* () {
  const host = describeHost()
  const code = codeVersion()
  progress(`${hostLine(host)}; ${code}`)
  const controlPlane = yield* ControlPlane.ControlPlane
  progress(`control plane up: ${controlPlane.server}`)
  const { namespace, system } = yield* OperatorNamespaces.make("bench-inplace")
  const sandbox = { defaultTimeoutSeconds: 600, maxTimeoutSeconds: 3600, startupTimeoutSeconds: 120 }
  const pools = {
    swap: "swap",
    inPlace: "recycle-inplace",
    delete: "recycle-delete",
  }
  yield* InPlace.createPool(namespace, pools.swap, {
    replicas: Math.max(...options.imageConcurrency, 1) * 2,
    sandbox,
    // Each request names its own image under example.com/ (issue 13: the template must allow it).
    template: InPlace.template({ image: poolImage, allowedImages: ["example.com/"] }),
    recyclePolicy: { type: "InPlace", acceptPodStateCarryOver: true },
  })
  yield* InPlace.createPool(namespace, pools.inPlace, {
    replicas: options.replicas,
    sandbox,
    // KWOK has no node agent to clear the Pod-level state: in place only with the opt-in.
    recyclePolicy: { type: "InPlace", acceptPodStateCarryOver: true },
    template: InPlace.template({ image: poolImage }),
  })
  yield* InPlace.createPool(namespace, pools.delete, {
    replicas: options.replicas,
    sandbox,
    recyclePolicy: { type: "Delete" },
    template: InPlace.template({ image: poolImage }),
  })
  const key = yield* OperatorHarness.mintKey(system, "bench", false, OperatorHarness.noQuotas)
  const workDir = mkdtempSync(join(tmpdir(), "agent-sandbox-bench-inplace-"))
  const [apiPort, probePort] = yield* FreePorts.freePorts(2)
  const operator = yield* spawnOperator({
    kubeconfigPath: controlPlane.kubeconfigPath,
    namespace,
    systemNamespace: system,
    apiPort: apiPort!,
    probePort: probePort!,
    logFile: join(workDir, "operator.log"),
  })
  for (let i = 0; (yield* Http.call(`${operator.apiUrl}/v1/pools`, { key })).status !== 200; i++) {
    if (i > 300) return yield* Effect.fail("the API key never became valid")
    yield* Effect.sleep("100 millis")
  }
  progress(`operator ready: ${operator.description}`)
  const warm = (pool: string, minIdle: number) =>
    awaitWarm({
      namespace,
      pool,
      minIdle,
      operatorView: true,
      apiUrl: operator.apiUrl,
      adminKey: key,
      timeout: Duration.minutes(5),
    })

  const allocate = (body: Record<string, unknown>) =>
    Effect.flatMap(Http.call(`${operator.apiUrl}/v1/sandboxes`, { method: "POST", key, body }), (r) =>
      r.status === 201 && r.body.ready === true
        ? Effect.succeed(r.body.id as string)
        : Effect.fail(`HTTP ${r.status} ${r.body?._tag ?? ""}`.trim()),
    )
  const release = (id: string) =>
    Effect.flatMap(Http.call(`${operator.apiUrl}/v1/sandboxes/${id}`, { method: "DELETE", key }), (r) =>
      r.status === 204 ? Effect.void : Effect.fail(`release: HTTP ${r.status}`),
    )

  // 1. A new image per request: swapped in place into a warm Pod, or a fresh Pod created for it.
  const imageRows: Array<ImageRow> = []
  for (const concurrency of options.imageConcurrency) {
    const swapWarm = Math.max(...options.imageConcurrency, 1) * 2
    yield* warm(pools.swap, swapWarm)
    progress(`new image, c=${concurrency}: ${options.images} in-place swaps`)
    const ids: Array<string> = []
    const swapped = yield* runLoad({ count: options.images, concurrency, timeLimit }, (i) =>
      Effect.map(allocate({ pool: pools.swap, image: `example.com/app-c${concurrency}-${i}:1` }), (id) => {
        ids.push(id)
      }),
    )
    yield* Effect.forEach(ids, (id) => Effect.ignore(release(id)), { concurrency: 8, discard: true })
    imageRows.push({
      way: "in place: POST /v1/sandboxes {image}, warm Pod swapped",
      concurrency,
      result: swapped,
    })
    progress(`new image, c=${concurrency}: ${options.images} fresh Pods`)
    const fresh = yield* coldStart({
      namespace,
      round: `c${concurrency}`,
      count: options.images,
      concurrency,
      image: `example.com/fresh-c${concurrency}:1`,
    })
    imageRows.push({
      way: "recreate: a fresh Pod created, watched to Running+Ready",
      concurrency,
      result: fresh,
    })
  }

  // 2. Allocate + release cycles: how many Pods each recycle policy creates and deletes.
  const churnRows: Array<ChurnRow> = []
  for (const [policy, pool] of [
    ["InPlace", pools.inPlace],
    ["Delete", pools.delete],
  ] as const) {
    yield* warm(pool, options.replicas)
    progress(`${policy}: ${options.requests} allocate+release cycles at c=${options.concurrency}`)
    const allocations: Array<number> = []
    const row = yield* Effect.scoped(
      Effect.gen(function* () {
        const events = yield* PodEvents.record(namespace)
        const cycles = yield* runLoad(
          { count: options.requests, concurrency: options.concurrency, timeLimit },
          () =>
            Effect.gen(function* () {
              const t0 = performance.now()
              const id = yield* allocate({ pool })
              allocations.push(performance.now() - t0)
              yield* release(id)
            }),
        )
        // Until the pool is back at its warm target and quiet: what the cycles cost in full.
        yield* warm(pool, options.replicas)
        const ofPool = (names: ReadonlySet<string>) =>
          [...names].filter((n) => n.startsWith(`${pool}-`)).length
        return {
          policy,
          cycles,
          allocations,
          creates: ofPool(events.created),
          deletes: ofPool(events.deleted),
        }
      }),
    )
    churnRows.push(row)
  }

  const report = render({ host, code, options, imageRows, churnRows })
  process.stdout.write(report)
  if (options.out !== undefined) writeFileSync(options.out, report)
  progress(`operator log in ${workDir}`)
})

program.pipe(
  Effect.scoped,
  Effect.provide(
    BenchCluster.layer({
      nodes: 3,
      podReadyDelayMillis: options.coldMillis,
      imageChangeDelayMillis: options.pullMillis,
    }),
  ),
  Effect.provide(stderrLogger),
  NodeRuntime.runMain({ disablePrettyLogger: true }),
)
