import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { KubeClient, KubeConfig, type KubeObject, ResourceType } from "@agent-sandbox/kube"
import { Eventually, FreePorts, TestNamespace } from "@agent-sandbox/testing"
import { assert, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Dashboards from "../src/dashboards/Dashboards.ts"
import { Helm, OperatorPermissions, Promtool } from "../src/index.ts"
import { runProgram } from "../src/Program.ts"
import * as CanIList from "./CanIList.ts"
import { chartDir, find, parseManifests } from "./ChartFiles.ts"
import { containerEnvironment, spawnOperator } from "./ChartOperator.ts"
import { startPrometheus } from "./PrometheusServer.ts"
import { serviceAccountKubeconfig } from "./ServiceAccountKubeconfig.ts"

// The chart installed by helm into the local control plane (KWOK nodes: the Deployment's own Pods
// are fake there, so the operator runs on this host as the chart's ServiceAccount, with the
// environment the chart gives its container). On a real node the Deployment's Pods run the image.

const cluster = Layer.provideMerge(KubeClient.layer, KubeConfig.layerFromDefault)

const type = (apiVersion: string, kind: string, plural: string, namespaced: boolean) =>
  ResourceType.make<KubeObject.KubeObject>({ apiVersion, kind, plural, namespaced })

/** Every kind the chart renders, to show that uninstall leaves none of them. */
const chartKinds = [
  type("apps/v1", "Deployment", "deployments", true),
  type("v1", "Service", "services", true),
  type("v1", "ServiceAccount", "serviceaccounts", true),
  type("v1", "Secret", "secrets", true),
  type("v1", "ConfigMap", "configmaps", true),
  type("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", true),
  type("coordination.k8s.io/v1", "Lease", "leases", true),
  type("rbac.authorization.k8s.io/v1", "Role", "roles", true),
  type("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", true),
  type("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", false),
  type("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", false),
  type("sandbox.agent-sandbox.dev/v1alpha1", "SandboxTemplate", "sandboxtemplates", false),
  type("sandbox.agent-sandbox.dev/v1alpha1", "SandboxPool", "sandboxpools", true),
]

/** What `kubectl auth can-i --list` prints for the kubeconfig's user in `namespace`, as permission lines. */
const canIList = (kubeconfig: string, namespace: string) =>
  Effect.map(
    runProgram("/usr/bin/kubectl", ["--kubeconfig", kubeconfig, "auth", "can-i", "--list", "-n", namespace]),
    (r) => {
      assert.strictEqual(r.code, 0, r.stderr)
      return CanIList.linesOf(r.stdout)
    },
  )

const release = "chart-test"

// Real time: the steps wait on a real cluster and processes (no TestClock).
layer(Layer.mergeAll(cluster, Helm.layer), { timeout: "5 minutes", excludeTestServices: true })(
  "helm install",
  (it) => {
    it.scoped(
      "installs the chart, serves allocation and E2B as the chart's ServiceAccount with exactly its rules, keeps its keys on upgrade, and uninstalls to the CRDs",
      () =>
        Effect.gen(function* () {
          const helm = yield* Helm.Helm
          const client = yield* KubeClient.KubeClient
          const system = yield* TestNamespace.make("chart-system")
          const sandboxes = yield* TestNamespace.make("chart-sandboxes")
          const dir = yield* Effect.acquireRelease(
            Effect.sync(() => mkdtempSync(join(tmpdir(), "chart-install-"))),
            (d) => Effect.sync(() => rmSync(d, { recursive: true, force: true })),
          )
          const install = helm.run([
            "install",
            release,
            chartDir,
            "--namespace",
            system,
            // One watched namespace: a cluster-wide operator would also reconcile the pools of the
            // suites running beside this one (RbacNeeded.test.ts proves the cluster-wide rules).
            "--set",
            `demo.enabled=true,demo.replicas=2,defaultNamespace=${sandboxes},watchNamespace=${sandboxes}`,
          ])
          yield* Effect.acquireRelease(install, () =>
            helm.run(["uninstall", release, "--namespace", system, "--ignore-not-found"]).pipe(Effect.ignore),
          )
          const manifest = parseManifests(
            (yield* helm.run(["get", "manifest", release, "-n", system])).stdout,
          )
          // The operator's (wsproxy's is the other one).
          const deployment = find(manifest, "Deployment", `${release}-agent-sandbox`)
          const serviceAccount = deployment.spec.template.spec.serviceAccountName as string

          const key = Buffer.from(
            (yield* client.get(ResourceType.Secret, `${release}-agent-sandbox-admin-key`, {
              namespace: system,
            })).data?.key ?? "",
            "base64",
          ).toString("utf8")
          assert.match(key, /^e2b_[0-9a-f]{40}$/)

          const kubeconfig = yield* serviceAccountKubeconfig({ namespace: system, serviceAccount, dir })
          const [api, probes, e2b, metrics, prometheusPort] = yield* FreePorts.freePorts(5)
          const ports = { api: api ?? 0, probes: probes ?? 0, e2b: e2b ?? 0, metrics: metrics ?? 0 }

          yield* Effect.scoped(
            Effect.gen(function* () {
              yield* spawnOperator({
                env: containerEnvironment(deployment, `${release}-operator-0`, ports),
                kubeconfig,
                logFile: join(dir, "operator.log"),
                probePort: ports.probes,
              })
              // A real Prometheus scrapes the operator through the runs below.
              const prometheus = yield* startPrometheus({
                dir: join(dir, "prometheus"),
                port: prometheusPort ?? 0,
                target: `127.0.0.1:${ports.metrics}`,
              })
              // The chart's own test script (what `helm test` runs in its hook Pod).
              const test = yield* runProgram(process.execPath, [join(chartDir, "files/allocate-test.mjs")], {
                PATH: process.env.PATH,
                AGENT_SANDBOX_URL: `http://127.0.0.1:${ports.api}`,
                AGENT_SANDBOX_API_KEY: key,
                AGENT_SANDBOX_POOL: "demo",
              })
              assert.strictEqual(
                test.code,
                0,
                `${test.stdout}${test.stderr}\n${readFileSync(join(dir, "operator.log"), "utf8").slice(-4000)}`,
              )
              assert.include(test.stdout, "released")

              // An E2B SDK round trip: create, a command through envd (exec through the API server), kill.
              Object.assign(process.env, {
                E2B_API_URL: `http://127.0.0.1:${ports.e2b}`,
                E2B_SANDBOX_URL: `http://127.0.0.1:${ports.e2b}`,
                E2B_API_KEY: key,
              })
              const output = yield* Effect.promise(async () => {
                const { Sandbox } = await import("e2b")
                const sandbox = await Sandbox.create("demo", { timeoutMs: 120_000 })
                try {
                  return (await sandbox.commands.run("echo hello from the chart")).stdout
                } finally {
                  await sandbox.kill()
                }
              })
              assert.strictEqual(output, "hello from the chart\n")

              // An error outcome too (404: no such pool), for the errors panel.
              const missing = yield* Effect.promise(() =>
                fetch(`http://127.0.0.1:${ports.api}/v1/sandboxes`, {
                  method: "POST",
                  headers: { "x-api-key": key, "content-type": "application/json" },
                  body: JSON.stringify({ pool: "no-such-pool" }),
                }),
              )
              assert.strictEqual(missing.status, 404)

              // Every panel of every dashboard has data, once Prometheus has scraped what happened.
              yield* Eventually.eventually(
                Effect.gen(function* () {
                  const empty: Array<string> = []
                  for (const [name, dashboard] of Dashboards.all)
                    for (const { panel, exprs } of Dashboards.panelQueries(dashboard, "1m")) {
                      const counts = yield* Effect.forEach(exprs, prometheus.query)
                      if (!counts.some((n) => n > 0)) empty.push(`${name}: ${panel}`)
                    }
                  if (empty.length > 0) return yield* Effect.fail(`panels without data: ${empty.join("; ")}`)
                }),
                { timeout: "30 seconds", interval: "1 second" },
              )

              // Metrics on the chart's metrics port: valid for promtool, with what the runs above recorded.
              const exposition = yield* Effect.promise(() =>
                fetch(`http://127.0.0.1:${ports.metrics}/metrics`).then((r) => r.text()),
              )
              const checked = yield* Promtool.checkMetrics(exposition)
              assert.strictEqual(
                checked.code,
                0,
                `promtool check metrics: ${checked.stdout}${checked.stderr}`,
              )
              for (const series of [
                `agent_sandbox_allocation_duration_seconds_bucket{le="0.0005",namespace="${sandboxes}",pool="demo",outcome="allocated"}`,
                `agent_sandbox_releases_total{namespace="${sandboxes}",pool="demo"}`,
                `agent_sandbox_pool_desired_replicas{namespace="${sandboxes}",pool="demo"} 2`,
                `agent_sandbox_pool_pods{namespace="${sandboxes}",pool="demo",state="warm"}`,
                `agent_sandbox_pool_updating_pods{namespace="${sandboxes}",pool="demo"} 0`,
                'agent_sandbox_e2b_requests_total{plane="envd",code="200"}',
                'agent_sandbox_envd_request_duration_seconds_count{method="process.Process/Start"}',
                'agent_sandbox_exec_open_duration_seconds_count{result="ok"}',
                'agent_sandbox_watch_relists_total{resource="pods"}',
                "agent_sandbox_leader 1",
              ])
                assert.include(exposition, series)

              // What the ServiceAccount may do: `kubectl auth can-i --list` as the account itself.
              for (const namespace of [system, sandboxes]) {
                const lines = yield* canIList(kubeconfig, namespace)
                assert.deepStrictEqual(
                  lines,
                  OperatorPermissions.expectedIn({
                    namespace,
                    systemNamespace: system,
                    watchNamespace: sandboxes,
                    nodeAgents: false,
                  }),
                  `rules in ${namespace}`,
                )
              }
            }),
          )

          // An upgrade keeps the keys made at install (the chart looks them up).
          const keys = Effect.forEach(
            [`${release}-agent-sandbox-admin-key`, "agent-sandbox-e2b-token-key"],
            (name) =>
              Effect.map(client.get(ResourceType.Secret, name, { namespace: system }), (s) => s.data?.key),
          )
          const before = yield* keys
          yield* helm.run([
            "upgrade",
            release,
            chartDir,
            "--namespace",
            system,
            "--set",
            `demo.enabled=true,demo.replicas=2,defaultNamespace=${sandboxes},watchNamespace=${sandboxes}`,
          ])
          assert.deepStrictEqual(yield* keys, before)

          // The operator is gone (as when the Deployment is); helm removes what it made.
          yield* helm.run(["uninstall", release, "--namespace", system, "--wait"])
          const selector = `app.kubernetes.io/instance=${release}`
          for (const kind of chartKinds) {
            const left = yield* client.list(kind, { labelSelector: selector })
            assert.deepStrictEqual(
              left.items.map((o) => `${o.metadata?.namespace ?? ""}/${o.metadata?.name}`),
              [],
              `${kind.kind} left by helm uninstall`,
            )
          }
          const secrets = yield* client.list(ResourceType.Secret, { namespace: system })
          assert.deepStrictEqual(
            secrets.items.map((s) => s.metadata?.name),
            [],
            "Secrets left (the release record, keys)",
          )
          // The demo pool's Pods follow their pool (owner references); the CRDs stay.
          yield* Eventually.eventually(
            Effect.flatMap(client.list(ResourceType.Pod, { namespace: sandboxes }), (pods) =>
              pods.items.length === 0 ? Effect.void : Effect.fail(`${pods.items.length} sandbox Pods left`),
            ),
            { timeout: "60 seconds", interval: "500 millis" },
          )
          for (const crd of [
            "sandboxtemplates.sandbox.agent-sandbox.dev",
            "sandboxpools.sandbox.agent-sandbox.dev",
          ])
            yield* client.get(ResourceType.CustomResourceDefinition, crd)
        }),
      240_000,
    )
  },
)
