/**
 * Prometheus metrics on :8082 (GET /metrics, text exposition by prom-client): the operator's
 * instruments plus, read at scrape time, the state of each pool as this replica sees it (its
 * status, the callers waiting here) and whether this replica leads.
 */
import { createServer } from "node:http"
import { LeaderElection } from "@agent-sandbox/kube"
import { OperatorMetrics, Sandboxes } from "@agent-sandbox/operator"
import { Effect, Layer, Runtime } from "effect"
import { Gauge, Registry } from "prom-client"
import { ServerConfig } from "../ServerConfig.ts"

const poolStates = ["warm", "allocated", "starting", "recycling", "failed"] as const

export const layer = Layer.scopedDiscard(
  Effect.gen(function* () {
    const config = yield* ServerConfig
    if (config.recordMetrics === false) OperatorMetrics.stopRecording()
    if (config.metricsPort === undefined) return
    const sandboxes = yield* Sandboxes.Sandboxes
    const election = yield* LeaderElection.LeaderElection
    const run = Runtime.runPromise(yield* Effect.runtime<never>())
    // Per server (tests run several in one process); the instruments' registry is shared.
    const scraped = new Registry()
    const desired = new Gauge({
      name: "agent_sandbox_pool_desired_replicas",
      help: "The pool's warm target (spec.replicas).",
      labelNames: ["namespace", "pool"] as const,
      registers: [scraped],
    })
    const pods = new Gauge({
      name: "agent_sandbox_pool_pods",
      help: "The pool's Pods by state, from its status (written by the leader).",
      labelNames: ["namespace", "pool", "state"] as const,
      registers: [scraped],
    })
    const updating = new Gauge({
      name: "agent_sandbox_pool_updating_pods",
      help: "The pool's Pods not yet at its update revision: a rollout of a new template updates them in place or replaces them.",
      labelNames: ["namespace", "pool"] as const,
      registers: [scraped],
    })
    const waiters = new Gauge({
      name: "agent_sandbox_allocation_waiters",
      help: "Callers waiting on this replica for a Pod of the pool.",
      labelNames: ["namespace", "pool"] as const,
      registers: [scraped],
    })
    const leader = new Gauge({
      name: "agent_sandbox_leader",
      help: "1 while this replica holds the leader Lease (reconciles pools), else 0.",
      registers: [scraped],
    })
    const refresh = Effect.gen(function* () {
      desired.reset()
      pods.reset()
      updating.reset()
      waiters.reset()
      for (const pool of yield* sandboxes.pools) {
        const labels = { namespace: pool.metadata.namespace ?? "", pool: pool.metadata.name ?? "" }
        const s = pool.status
        desired.set(labels, pool.spec.replicas)
        const counts = [
          s?.idleReplicas,
          s?.allocatedReplicas,
          s?.startingReplicas,
          s?.recyclingReplicas,
          s?.failedReplicas,
        ]
        poolStates.forEach((state, i) => {
          pods.set({ ...labels, state }, counts[i] ?? 0)
        })
        updating.set(labels, Math.max(0, (s?.replicas ?? 0) - (s?.updatedReplicas ?? 0)))
      }
      for (const [key, waiting] of yield* sandboxes.waiting) {
        const [namespace = "", pool = ""] = key.split("/")
        waiters.set({ namespace, pool }, waiting)
      }
      leader.set((yield* election.isLeader) ? 1 : 0)
    })
    const server = createServer((req, res) => {
      if (req.method !== "GET" || new URL(req.url ?? "/", "http://metrics.invalid").pathname !== "/metrics") {
        res.writeHead(404).end("not found: metrics are at GET /metrics\n")
        return
      }
      run(refresh)
        .then(async () => {
          const text = (await OperatorMetrics.registry.metrics()) + (await scraped.metrics())
          res.writeHead(200, { "content-type": scraped.contentType }).end(text)
        })
        .catch((error: unknown) => res.writeHead(500).end(`metrics: ${error}\n`))
    })
    yield* Effect.acquireRelease(
      Effect.async<void, Error>((resume) => {
        server.once("error", (e) => resume(Effect.fail(e)))
        server.listen(config.metricsPort, config.host, () => resume(Effect.void))
      }),
      // Scrapers keep their connections open: end them, or close would wait for them.
      () =>
        Effect.async<void>((resume) => {
          server.close(() => resume(Effect.void))
          server.closeAllConnections()
        }),
    )
    yield* Effect.logInfo(`metrics on ${config.host}:${config.metricsPort}/metrics`)
  }),
)
