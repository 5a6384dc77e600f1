import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { KubeClient, KubeConfig, type KubeObject, ResourceType } from "@agent-sandbox/kube"
import { Eventually, FreePorts, RealNode, TestNamespace } from "@agent-sandbox/testing"
import { assert, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { stringify } from "yaml"
import { Helm } from "../src/index.ts"
import { runProgram } from "../src/Program.ts"
import { chartDir } from "./ChartFiles.ts"

// The chart installed by helm with the operator image (`npm run image`) imported into the real
// node's containerd: the Deployment's Pod runs the image under the kubelet and runc, with the
// chart's security context, its in-cluster ServiceAccount credentials and probes; it fills a pool
// of real containers, `helm test` passes (its hook Pod allocates and releases a sandbox), and the
// E2B SDK runs a command in a sandbox through it.
//
// This cluster has no kube-proxy and no cluster DNS, so no Pod reaches a Service: the operator runs
// with the chart's hostNetwork, listening on the node's address (10.88.6.1, host-local on lo), and
// reaches the API server at 127.0.0.1 (apiServer.host), as on clusters without kube-proxy. The hook
// Pod, on the node's Pod network, calls that address (tests.url), routed to the node.

const repoRoot = join(import.meta.dirname, "../../..")
const cluster = Layer.provideMerge(KubeClient.layer, KubeConfig.layerFromDefault)

const Deployment = ResourceType.make<
  KubeObject.KubeObject & { status?: { availableReplicas?: number; readyReplicas?: number } }
>({ apiVersion: "apps/v1", kind: "Deployment", plural: "deployments", namespaced: true })

const kubectl = (args: ReadonlyArray<string>, input?: string) =>
  Effect.flatMap(runProgram("/usr/bin/kubectl", args, process.env, input), (r) =>
    r.code === 0 ? Effect.succeed(r.stdout) : Effect.fail(`kubectl ${args.join(" ")}: ${r.stderr}`),
  )

const release = "chart-real"
const [python] = RealNode.images.python

layer(Layer.mergeAll(cluster, Helm.layer, RealNode.layerFromEnvironment()), {
  timeout: "10 minutes",
  excludeTestServices: true,
})("helm install on the real node", (it) => {
  it.scoped(
    "runs the operator image as the Deployment's Pod: probes, in-cluster credentials, a pool of real containers, helm test and an E2B command",
    () =>
      Effect.gen(function* () {
        const helm = yield* Helm.Helm
        const client = yield* KubeClient.KubeClient
        const node = yield* RealNode.RealNode
        const system = yield* TestNamespace.make("chart-real-system")
        const sandboxes = yield* TestNamespace.make("chart-real-sandboxes")
        const dir = yield* Effect.acquireRelease(
          Effect.sync(() => mkdtempSync(join(tmpdir(), "chart-real-"))),
          (d) => Effect.sync(() => rmSync(d, { recursive: true, force: true })),
        )

        // The image, as a user builds it, into the node's containerd.
        const built = yield* runProgram(join(repoRoot, "scripts/image.sh"), [join(dir, "image")])
        assert.strictEqual(built.code, 0, built.stderr)
        yield* node.importImage(join(dir, "image", "agent-sandbox-operator.oci.tar"))

        // The chart's CRDs first (helm installs them too, and leaves them), then a pool of real
        // containers on the node, in the release's default namespace.
        yield* kubectl(["apply", "-f", join(chartDir, "crds")])
        yield* kubectl([
          "wait",
          "--for=condition=Established",
          "crd/sandboxtemplates.sandbox.agent-sandbox.dev",
          "crd/sandboxpools.sandbox.agent-sandbox.dev",
        ])
        yield* Effect.acquireRelease(
          kubectl(
            ["apply", "-f", "-"],
            [
              {
                apiVersion: "sandbox.agent-sandbox.dev/v1alpha1",
                kind: "SandboxTemplate",
                metadata: { name: release },
                spec: {
                  podTemplate: {
                    spec: {
                      ...node.placement,
                      automountServiceAccountToken: false,
                      terminationGracePeriodSeconds: 5,
                      containers: [{ name: "sandbox", image: python, imagePullPolicy: "Never" }],
                    },
                  },
                },
              },
              {
                apiVersion: "sandbox.agent-sandbox.dev/v1alpha1",
                kind: "SandboxPool",
                metadata: { name: "real", namespace: sandboxes },
                spec: { templateRef: { name: release }, replicas: 1 },
              },
            ]
              .map((o) => stringify(o))
              .join("---\n"),
          ),
          () =>
            kubectl(["delete", "sandboxpool", "--all", "-n", sandboxes, "--wait=false"]).pipe(
              Effect.zipRight(kubectl(["delete", "sandboxtemplate", release, "--ignore-not-found"])),
              Effect.ignore,
            ),
        )

        const [api = 0, e2b = 0, probes = 0, metrics = 0] = yield* FreePorts.freePorts(4)
        const apiServer = new URL(yield* KubeConfig.currentServer)
        const values = join(dir, "values.yaml")
        writeFileSync(
          values,
          stringify({
            image: { pullPolicy: "Never" },
            replicaCount: 1,
            hostNetwork: true,
            listenAddress: node.nodeIp,
            apiServer: { host: apiServer.hostname, port: Number(apiServer.port) },
            api: { port: api },
            e2b: { port: e2b },
            probes: { port: probes },
            metrics: { port: metrics },
            defaultNamespace: sandboxes,
            // One watched namespace: a cluster-wide operator would also reconcile the pools of the
            // suites running beside this one.
            watchNamespace: sandboxes,
            nodeSelector: node.placement.nodeSelector,
            tolerations: node.placement.tolerations,
            tests: { pool: "real", url: `http://${node.nodeIp}:${api}` },
            // Not what this test is about (and it would need the kubernetes Service).
            wsproxy: { enabled: false },
          }),
        )
        yield* Effect.acquireRelease(
          helm.run(["install", release, chartDir, "-n", system, "-f", values, "--wait", "--timeout", "5m"]),
          () =>
            helm
              .run(["uninstall", release, "-n", system, "--ignore-not-found", "--wait"])
              .pipe(Effect.ignore),
        )

        // The kubelet runs it, and its probes pass (Available), under the chart's security context.
        const deployment = yield* client.get(Deployment, `${release}-agent-sandbox`, { namespace: system })
        assert.strictEqual(deployment.status?.availableReplicas, 1)
        const [pod] = (yield* client.list(ResourceType.Pod, {
          namespace: system,
          labelSelector: "app.kubernetes.io/name=agent-sandbox,app.kubernetes.io/instance=chart-real",
        })).items.filter((p) => p.metadata?.labels?.["app.kubernetes.io/component"] === undefined)
        assert.strictEqual(pod?.spec?.nodeName, node.nodeName)
        const container = pod?.status?.containerStatuses?.[0]
        assert.isTrue(container?.ready)
        assert.match(container?.imageID ?? "", /sha256:[0-9a-f]{64}/)
        const uid = yield* kubectl([
          "exec",
          "-n",
          system,
          pod?.metadata?.name ?? "",
          "--",
          "/usr/local/bin/node",
          "-p",
          "process.getuid()",
        ])
        assert.strictEqual(uid.trim(), "65532")

        // It leads and fills the pool with a real container.
        yield* Eventually.eventually(
          Effect.flatMap(
            client.list(ResourceType.Pod, {
              namespace: sandboxes,
              labelSelector: "sandbox.agent-sandbox.dev/pool=real,sandbox.agent-sandbox.dev/state=idle",
            }),
            (pods) =>
              pods.items.some((p) =>
                p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
              )
                ? Effect.void
                : Effect.fail("no Ready idle Pod yet"),
          ),
          { timeout: "120 seconds", interval: "1 second" },
        )

        // `helm test`: the chart's hook Pod allocates and releases a sandbox, calling the operator at
        // the node's address from the node's Pod network; helm prints its log (the chart's
        // hook-output-log-policy), passed or failed. On failure, the events and the kept Pod's
        // status say more.
        const testPod = `${release}-agent-sandbox-test`
        const shown = (what: string, args: ReadonlyArray<string>) =>
          kubectl(args).pipe(
            Effect.merge,
            // The tail only: a long failure message slows vitest's report down to a crawl.
            Effect.map((text) => `--- ${what}\n${text.slice(-3000)}`),
          )
        const tested = yield* helm
          .run(["test", release, "-n", system, "--timeout", "3m"])
          .pipe(
            Effect.catchAll((error) =>
              Effect.flatMap(
                Effect.all([
                  shown("events", ["get", "events", "-n", system, "--sort-by=.lastTimestamp"]),
                  shown("hook Pod status", ["get", "pod", "-n", system, testPod, "-o", "jsonpath={.status}"]),
                ]),
                (diagnostics) => Effect.fail([error.message, ...diagnostics].join("\n")),
              ),
            ),
          )
        assert.match(tested.stdout, new RegExp(`TEST SUITE: +${testPod}[\\s\\S]*Phase: +Succeeded`))
        assert.match(tested.stderr, /^allocated \S+ \(pod \S+\) from pool real\nreleased \S+$/m)
        // The operator counted that release (nothing else has allocated yet).
        const exposition = yield* Effect.promise(() =>
          fetch(`http://${node.nodeIp}:${metrics}/metrics`).then((r) => r.text()),
        )
        assert.include(exposition, `agent_sandbox_releases_total{namespace="${sandboxes}",pool="real"} 1`)
        const key = Buffer.from(
          (yield* client.get(ResourceType.Secret, `${release}-agent-sandbox-admin-key`, {
            namespace: system,
          })).data?.key ?? "",
          "base64",
        ).toString("utf8")

        // The E2B SDK, unchanged, through the operator's E2B port: a command in a real container.
        const output = yield* Effect.tryPromise({
          try: async () => {
            const { Sandbox } = await import("e2b")
            const options = {
              apiKey: key,
              apiUrl: `http://${node.nodeIp}:${e2b}`,
              sandboxUrl: `http://${node.nodeIp}:${e2b}`,
              requestTimeoutMs: 120_000,
            }
            const sandbox = await Sandbox.create("real", { ...options, timeoutMs: 120_000 })
            try {
              return (await sandbox.commands.run("echo in-cluster; id -u")).stdout
            } finally {
              await sandbox.kill()
            }
          },
          catch: (error) =>
            `${error}\n${readFileSync(join(node.logsDir, "kubelet.log"), "utf8").slice(-2000)}`,
        })
        assert.match(output, /^in-cluster\n\d+\n$/)
      }),
    900_000,
  )
})
