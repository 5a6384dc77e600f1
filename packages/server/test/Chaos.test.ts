/**
 * Chaos under an allocation load, on a control plane of this suite's own (it kills etcd and the
 * API server, which the shared one must never see): two operator replicas in their own processes
 * serve a stream of claims while, in turn, each replica is killed outright and started again,
 * kube-apiserver is killed and started again, etcd is killed for 10 s, etcd is compacted and the
 * API server restarted so every watch resumes from a compacted revision (410 Gone, relist), and
 * the API server is stalled with SIGSTOP. Afterwards: every answered claim is on exactly one Pod,
 * nothing stays allocated that no caller holds once its timeout has passed, and both replicas serve
 * claims again without being restarted.
 */
import { tmpdir } from "node:os"
import { join } from "node:path"
import { KubeClient, ResourceType } from "@agent-sandbox/kube"
import { ComponentFaults, ControlPlane, Eventually, FreePorts, Load } from "@agent-sandbox/testing"
import {
  OperatorHarness,
  OperatorNamespaces,
  OperatorProcess,
  PodAudit,
  Pools,
} from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import { Effect, Fiber, Layer, Ref } from "effect"

const poolSize = 24
/** Short, so the orphans of lost answers expire within the test. */
const claimSeconds = 15
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)}s`

const cluster = Layer.provideMerge(
  Layer.provideMerge(KubeClient.layer, ControlPlane.layerKubeConfig),
  ControlPlane.layer({ nodes: 1 }),
)

interface Claim {
  readonly outcome: Load.Outcome
  /** When the request was sent; an unanswered claim that landed expires by this + claimSeconds. */
  readonly sentAt: number
}

layer(cluster, { timeout: "240 seconds", excludeTestServices: true })("chaos", (it) => {
  it.effect(
    "operator kills, an API server restart, etcd down 10 s, a forced 410 and a stalled API server lose and leak no sandbox",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const started = Date.now()
          const controlPlane = yield* ControlPlane.ControlPlane
          const launched = controlPlane.launched
          if (launched === undefined) return assert.fail("the suite's control plane was not launched here")
          const faults = yield* ComponentFaults.make(launched)
          const { namespace, system } = yield* OperatorNamespaces.make("chaos")
          yield* Pools.createPool(namespace, "chaos", {
            replicas: poolSize,
            maxPods: poolSize,
            sandbox: {
              defaultTimeoutSeconds: claimSeconds,
              maxTimeoutSeconds: 60,
              startupTimeoutSeconds: 60,
            },
          })
          const ports = yield* FreePorts.freePorts(4)
          const replicaOptions = (id: string, apiPort: number, probePort: number) => ({
            namespace,
            systemNamespace: system,
            apiPort,
            probePort,
            replicaId: id,
            maxWaitMillis: 2_000,
            kubeconfigPath: controlPlane.kubeconfigPath,
            logFile: join(tmpdir(), `operator-chaos-${namespace}-${id}.log`),
          })
          const options = [
            replicaOptions("a", ports[0]!, ports[1]!),
            replicaOptions("b", ports[2]!, ports[3]!),
          ]
          const replicas = yield* Ref.make(
            yield* Effect.all(options.map((o) => OperatorProcess.spawnOperator(o))),
          )
          const urls = options.map((o) => `http://127.0.0.1:${o.apiPort}`)
          const key = yield* OperatorHarness.mintKey(system, "chaos", false, OperatorHarness.noQuotas)
          for (const url of urls)
            yield* Eventually.eventually(
              Effect.flatMap(Load.attempt(`${url}/v1/pools`, { key }), (r) =>
                r.status === 200 ? Effect.void : Effect.fail(r),
              ),
            )
          yield* Eventually.eventually(
            Effect.flatMap(PodAudit.audit(namespace, "chaos"), (a) =>
              a.claimable.length === poolSize ? Effect.void : Effect.fail(a.claimable.length),
            ),
            { timeout: "60 seconds", interval: "200 millis" },
          )
          console.log(`[chaos] pool of ${poolSize} ready in ${seconds(started)}`)

          // The load: a claim every 250 ms, alternating replicas, each given up after 10 s.
          const claims: Array<Claim> = []
          const stopping = yield* Ref.make(false)
          const load = yield* Effect.fork(
            Effect.gen(function* () {
              const inFlight: Array<Fiber.RuntimeFiber<void>> = []
              for (let i = 0; !(yield* Ref.get(stopping)); i++) {
                const sentAt = Date.now()
                inFlight.push(
                  yield* Effect.fork(
                    Effect.map(
                      Load.attempt(`${urls[i % 2]}/v1/sandboxes`, {
                        method: "POST",
                        key,
                        body: { pool: "chaos", timeoutSeconds: claimSeconds, metadata: { n: String(i) } },
                        abortAfterMillis: 10_000,
                      }),
                      (outcome) => {
                        claims.push({ outcome, sentAt })
                      },
                    ),
                  ),
                )
                yield* Effect.sleep("250 millis")
              }
              yield* Fiber.joinAll(inFlight)
            }),
          )
          const step = <R>(name: string, fault: Effect.Effect<unknown, unknown, R>) =>
            Effect.gen(function* () {
              const at = Date.now()
              yield* fault
              yield* Effect.sleep("2 seconds")
              console.log(`[chaos] ${name} (${seconds(at)}), ${claims.length} claims answered so far`)
            })
          const apiServerReady = Eventually.eventually(
            Effect.flatMap(KubeClient.KubeClient, (client) =>
              client.list(ResourceType.Pod, { namespace, labelSelector: "none=none" }),
            ),
            { timeout: "60 seconds", interval: "250 millis" },
          )

          yield* Effect.sleep("3 seconds")
          // Each replica in turn: killed outright, started again with the same configuration.
          for (const [index, o] of options.entries())
            yield* step(
              `replica ${o.replicaId} killed and started again`,
              Effect.gen(function* () {
                const current = yield* Ref.get(replicas)
                yield* current[index]!.kill
                const again = yield* OperatorProcess.spawnOperator(o)
                yield* Ref.update(replicas, (all) => all.map((r, i) => (i === index ? again : r)))
              }),
            )
          yield* step(
            "kube-apiserver killed and started again",
            Effect.zipRight(
              Effect.zipRight(faults.kill("kube-apiserver"), faults.start("kube-apiserver")),
              apiServerReady,
            ),
          )
          yield* step(
            "etcd down for 10 s",
            Effect.gen(function* () {
              yield* faults.kill("etcd")
              yield* Effect.sleep("10 seconds")
              yield* faults.start("etcd")
              yield* apiServerReady
            }),
          )
          yield* step(
            "etcd compacted and kube-apiserver restarted: watches resume from a compacted revision",
            Effect.gen(function* () {
              const before = yield* Effect.flatMap(KubeClient.KubeClient, (client) =>
                client.list(ResourceType.Pod, { namespace }),
              )
              // Churn, so the revision the watches hold is behind what gets compacted.
              yield* Effect.sleep("2 seconds")
              const revision = yield* faults.compactEtcd
              yield* faults.kill("kube-apiserver")
              yield* faults.start("kube-apiserver")
              yield* apiServerReady
              // What every watch started before now gets: the revision it would resume from is gone.
              const expired = yield* Effect.flip(
                Effect.flatMap(KubeClient.KubeClient, (client) =>
                  client.list(ResourceType.Pod, {
                    namespace,
                    resourceVersion: before.resourceVersion,
                    resourceVersionMatch: "Exact",
                  }),
                ),
              )
              assert.strictEqual(expired.status, 410, JSON.stringify(expired))
              console.log(
                `[chaos] compacted at revision ${revision}; revision ${before.resourceVersion} is 410 Gone`,
              )
            }),
          )
          yield* step(
            "kube-apiserver stalled (SIGSTOP) for 5 s",
            Effect.gen(function* () {
              yield* faults.stall("kube-apiserver")
              yield* Effect.sleep("5 seconds")
              yield* faults.resume("kube-apiserver")
            }),
          )
          yield* Effect.sleep("3 seconds")
          yield* Ref.set(stopping, true)
          yield* Fiber.join(load)
          const tally = Load.tally(claims.map((c) => c.outcome))
          console.log(`[chaos] load ended after ${seconds(started)}: callers saw`, tally)
          for (const c of claims) assert.include([0, 201, 503], c.outcome.status, JSON.stringify(c.outcome))

          // Every answered claim is on exactly one Pod: no id or Pod answered twice, and each one whose
          // timeout has not passed is on the Pod it was answered with.
          const received = claims.filter((c) => c.outcome.status === 201)
          assert.isAbove(received.length, 0)
          assert.strictEqual(
            new Set(received.map((c) => c.outcome.body.id)).size,
            received.length,
            "an id twice",
          )
          const audit = yield* PodAudit.audit(namespace, "chaos")
          assert.deepStrictEqual(audit.inconsistent, [], "half-written records")
          const ids = [...audit.allocated.values()]
          assert.strictEqual(new Set(ids).size, ids.length, "a sandbox id on two Pods")
          const now = Date.now()
          for (const c of received) {
            const { id, pod, expiresAt } = c.outcome.body
            if (Date.parse(expiresAt) > now + 2_000)
              assert.strictEqual(audit.allocated.get(pod), id, `${id} lost`)
          }

          // Nothing stays allocated past its timeout that no caller holds: once the last claim's
          // timeout has passed (answered or not), the pool has every Pod back.
          const lastExpiry = Math.max(...claims.map((c) => c.sentAt + claimSeconds * 1000))
          yield* Effect.sleep(`${Math.max(0, lastExpiry - Date.now())} millis`)
          yield* Eventually.eventually(
            Effect.flatMap(PodAudit.audit(namespace, "chaos"), (a) =>
              a.allocated.size === 0 && a.claimable.length === poolSize
                ? Effect.void
                : Effect.fail(a.allocated.size),
            ),
            { timeout: "60 seconds", interval: "500 millis" },
          )
          console.log(`[chaos] every expired sandbox released ${seconds(lastExpiry)} after the last timeout`)

          // The replicas recovered by themselves: each serves claims again.
          for (const url of urls) {
            const again = yield* Load.attempt(`${url}/v1/sandboxes`, {
              method: "POST",
              key,
              body: { pool: "chaos" },
            })
            assert.strictEqual(again.status, 201, JSON.stringify(again))
          }
          console.log(`[chaos] done in ${seconds(started)}`)
        }),
      ),
    240_000,
  )
})
