import { createHash } from "node:crypto"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { stringify } from "yaml"
import { Helm, Kube126, OperatorPermissions } from "../src/index.ts"
import { chartDir, find, parseManifests, type Rendered, template } from "./ChartFiles.ts"

const decode = (value: string) => Buffer.from(value, "base64").toString("utf8")

const isWsproxy = (o: Rendered) => o.metadata.labels?.["app.kubernetes.io/component"] === "wsproxy"
/** The node agents' own Role (their Leases), beside the operator's. */
const isNodeAgent = (o: Rendered) => o.metadata.name.endsWith("-node-agent")

/** The rules of every Role/ClusterRole rendered (the operator's, or wsproxy's), flattened, per kind and namespace. */
const rulesOf = (objects: ReadonlyArray<Rendered>, kind: string, namespace?: string, wsproxy = false) =>
  OperatorPermissions.linesOf(
    objects
      .filter(
        (o) =>
          o.kind === kind &&
          isWsproxy(o) === wsproxy &&
          !isNodeAgent(o) &&
          (namespace === undefined || o.metadata.namespace === namespace),
      )
      .flatMap((o) => o.rules),
  )

const expectedLines = (
  scopes: ReadonlyArray<OperatorPermissions.Scope>,
  permissions = OperatorPermissions.operatorPermissionsWith({ nodeAgents: false }),
) => [...new Set(permissions.filter((p) => scopes.includes(p.scope)).map(OperatorPermissions.line))].sort()

describe("chart", () => {
  it.layer(Helm.layer, { timeout: "20 minutes" })((it) => {
    it.effect("passes helm lint --strict, with the defaults and with every option on", () =>
      Effect.gen(function* () {
        const helm = yield* Helm.Helm
        yield* helm.run(["lint", "--strict", chartDir, "--kube-version", "1.26.0"])
        yield* helm.run([
          "lint",
          "--strict",
          chartDir,
          "--kube-version",
          "1.26.0",
          "--set",
          "demo.enabled=true,metrics.serviceMonitor.enabled=true,metrics.prometheusRule.enabled=true,metrics.dashboards.enabled=true,watchNamespace=sandboxes",
        ])
      }),
    )

    it.effect("renders a hardened Deployment of two replicas, its Services, PDB and probes", () =>
      Effect.gen(function* () {
        const objects = yield* template("as", "agent-sandbox-system")
        const deployment = find(objects, "Deployment", "as-agent-sandbox")
        const pod = deployment.spec.template.spec
        const container = pod.containers[0]
        assert.strictEqual(deployment.spec.replicas, 2)
        assert.strictEqual(pod.securityContext.runAsNonRoot, true)
        assert.strictEqual(container.securityContext.readOnlyRootFilesystem, true)
        assert.strictEqual(container.securityContext.allowPrivilegeEscalation, false)
        assert.deepStrictEqual(container.securityContext.capabilities.drop, ["ALL"])
        assert.strictEqual(container.readinessProbe.httpGet.path, "/readyz")
        assert.strictEqual(container.livenessProbe.httpGet.port, "probes")
        assert.isDefined(container.resources.requests.cpu)
        assert.isAtLeast(pod.topologySpreadConstraints.length, 1)
        const ports = Object.fromEntries(
          container.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]),
        )
        assert.deepStrictEqual(ports, { api: 8080, e2b: 8090, probes: 8081, metrics: 8082 })
        const services = objects
          .filter((o) => o.kind === "Service")
          .map((s) => `${s.metadata.name}:${s.spec.ports[0].port}`)
          .sort()
        assert.deepStrictEqual(services, [
          "as-agent-sandbox-api:8080",
          "as-agent-sandbox-e2b:8090",
          "as-agent-sandbox-metrics:8082",
          "as-agent-sandbox-wsproxy:9003",
        ])
        assert.strictEqual(find(objects, "PodDisruptionBudget").spec.minAvailable, 1)
        // Nothing optional by default.
        for (const kind of ["ServiceMonitor", "PrometheusRule", "SandboxPool", "SandboxTemplate"])
          assert.isUndefined(
            objects.find((o) => o.kind === kind),
            kind,
          )
      }),
    )

    it.effect("renders no metrics Service, port or monitoring objects with metrics.enabled=false", () =>
      Effect.gen(function* () {
        const objects = yield* template("as", "agent-sandbox-system", {
          "metrics.enabled": "false",
          "metrics.serviceMonitor.enabled": "true",
          "metrics.prometheusRule.enabled": "true",
          "metrics.dashboards.enabled": "true",
        })
        const container = find(objects, "Deployment", "as-agent-sandbox").spec.template.spec.containers[0]
        const env = Object.fromEntries(
          container.env.map((e: { name: string; value: string }) => [e.name, e.value]),
        )
        assert.strictEqual(env.AGENT_SANDBOX_METRICS, "off")
        assert.isUndefined(env.AGENT_SANDBOX_METRICS_PORT)
        assert.notInclude(
          container.ports.map((p: { name: string }) => p.name),
          "metrics",
        )
        assert.isUndefined(objects.find((o) => o.kind === "Service" && o.metadata.name.endsWith("-metrics")))
        for (const kind of ["ServiceMonitor", "PrometheusRule"])
          assert.isUndefined(
            objects.find((o) => o.kind === kind),
            kind,
          )
        assert.isUndefined(
          objects.find((o) => o.kind === "ConfigMap" && o.metadata.name.includes("dashboard")),
        )
        // On by default.
        const defaults = yield* template("as", "agent-sandbox-system")
        const on = find(defaults, "Deployment", "as-agent-sandbox").spec.template.spec.containers[0]
        assert.deepInclude(on.env, { name: "AGENT_SANDBOX_METRICS", value: "on" })
      }),
    )

    it.effect("grants exactly the operator's permissions, cluster-wide or in the watched namespace", () =>
      Effect.gen(function* () {
        const all = yield* template("as", "agent-sandbox-system")
        assert.deepStrictEqual(rulesOf(all, "ClusterRole"), expectedLines(["cluster", "watched"]))
        assert.deepStrictEqual(rulesOf(all, "Role", "agent-sandbox-system"), expectedLines(["system"]))

        const one = yield* template("as", "agent-sandbox-system", { watchNamespace: "sandboxes" })
        assert.deepStrictEqual(rulesOf(one, "ClusterRole"), expectedLines(["cluster"]))
        assert.deepStrictEqual(rulesOf(one, "Role", "sandboxes"), expectedLines(["watched"]))
        assert.deepStrictEqual(rulesOf(one, "Role", "agent-sandbox-system"), expectedLines(["system"]))

        // The node agents' Leases and grant key only where node agents run.
        const agents = yield* template("as", "agent-sandbox-system", { "nodeAgent.enabled": "true" })
        assert.deepStrictEqual(
          rulesOf(agents, "Role", "agent-sandbox-system"),
          expectedLines(["system"], OperatorPermissions.operatorPermissionsWith({ nodeAgents: true })),
        )
        assert.includeMembers(
          [...rulesOf(agents, "Role", "agent-sandbox-system")],
          ["list coordination.k8s.io/leases", "get core/secrets/agent-sandbox-node-agent-grant-key"],
        )
      }),
    )

    it.effect("tells the operator the node agents' scrub timeout (nodeAgent.scrubSeconds)", () =>
      Effect.gen(function* () {
        const scrubSeconds = (objects: ReadonlyArray<Rendered>) =>
          find(objects, "Deployment", "as-agent-sandbox").spec.template.spec.containers[0].env.find(
            (e: { name: string }) => e.name === "AGENT_SANDBOX_NODE_AGENT_SCRUB_SECONDS",
          )?.value
        assert.strictEqual(scrubSeconds(yield* template("as", "agent-sandbox-system")), "30")
        const set = yield* template("as", "agent-sandbox-system", {
          "nodeAgent.enabled": "true",
          "nodeAgent.scrubSeconds": "45",
        })
        assert.strictEqual(scrubSeconds(set), "45")
        const bad = yield* Effect.either(
          template("as", "agent-sandbox-system", { "nodeAgent.scrubSeconds": "0" }),
        )
        assert.isTrue(bad._tag === "Left")
      }),
    )

    it.effect("tells each node agent how many scrub grants it may remember (nodeAgent.maxScrubGrants)", () =>
      Effect.gen(function* () {
        const maxScrubGrants = (objects: ReadonlyArray<Rendered>) =>
          find(objects, "DaemonSet", "as-agent-sandbox-node-agent").spec.template.spec.containers[0].env.find(
            (e: { name: string }) => e.name === "AGENT_SANDBOX_NODE_AGENT_MAX_SCRUB_GRANTS",
          )?.value
        assert.strictEqual(
          maxScrubGrants(yield* template("as", "agent-sandbox-system", { "nodeAgent.enabled": "true" })),
          "1024",
        )
        const set = yield* template("as", "agent-sandbox-system", {
          "nodeAgent.enabled": "true",
          "nodeAgent.maxScrubGrants": "64",
        })
        assert.strictEqual(maxScrubGrants(set), "64")
        const bad = yield* Effect.either(
          template("as", "agent-sandbox-system", {
            "nodeAgent.enabled": "true",
            "nodeAgent.maxScrubGrants": "0",
          }),
        )
        assert.isTrue(bad._tag === "Left")
      }),
    )

    it.effect(
      "renders wsproxy: one hardened replica of the operator image, its Service, key and own permissions",
      () =>
        Effect.gen(function* () {
          const objects = yield* template("as", "agent-sandbox-system", {
            "wsproxy.allowedOrigins[0]": "https://ops.example.com",
          })
          const deployment = find(objects, "Deployment", "as-agent-sandbox-wsproxy")
          const pod = deployment.spec.template.spec
          const container = pod.containers[0]
          assert.strictEqual(deployment.spec.replicas, 1)
          assert.strictEqual(deployment.spec.strategy.type, "Recreate")
          assert.strictEqual(pod.serviceAccountName, "as-agent-sandbox-wsproxy")
          assert.strictEqual(
            container.image,
            find(objects, "Deployment", "as-agent-sandbox").spec.template.spec.containers[0].image,
          )
          assert.deepStrictEqual(container.args, ["/app/wsproxy.mjs"])
          assert.strictEqual(container.securityContext.readOnlyRootFilesystem, true)
          const env = Object.fromEntries(
            container.env.map((e: { name: string; value: string }) => [e.name, e.value]),
          )
          assert.strictEqual(env.AGENT_SANDBOX_WSPROXY_API_URL, "http://as-agent-sandbox-api:8080")
          assert.strictEqual(env.AGENT_SANDBOX_WSPROXY_ALLOWED_ORIGINS, "https://ops.example.com")
          assert.strictEqual(env.AGENT_SANDBOX_WSPROXY_PAGE_DIR, "/app/wsproxy-page")
          assert.strictEqual(container.readinessProbe.httpGet.path, "/healthz")
          // The operator's selector does not take in wsproxy's Pods, nor the other way round.
          const operatorSelector = find(objects, "Deployment", "as-agent-sandbox").spec.selector.matchLabels
          const wsproxyLabels = deployment.spec.template.metadata.labels
          assert.isFalse(Object.entries(operatorSelector).every(([k, v]) => wsproxyLabels[k] === v))
          assert.strictEqual(
            find(objects, "Service", "as-agent-sandbox-wsproxy").spec.ports[0].targetPort,
            "terminal",
          )
          assert.isAtLeast(
            Buffer.from(find(objects, "Secret", "agent-sandbox-terminal-token-key").data.key, "base64")
              .length,
            32,
          )
          const ws = OperatorPermissions.wsproxyPermissions
          assert.deepStrictEqual(
            rulesOf(objects, "ClusterRole", undefined, true),
            expectedLines(["watched"], ws),
          )
          assert.deepStrictEqual(
            rulesOf(objects, "Role", "agent-sandbox-system", true),
            expectedLines(["system"], ws),
          )
          const one = yield* template("as", "agent-sandbox-system", { watchNamespace: "sandboxes" })
          assert.deepStrictEqual(rulesOf(one, "ClusterRole", undefined, true), [])
          assert.deepStrictEqual(rulesOf(one, "Role", "sandboxes", true), expectedLines(["watched"], ws))

          const off = yield* template("as", "agent-sandbox-system", { "wsproxy.enabled": "false" })
          assert.isUndefined(off.find(isWsproxy))
          const refused = yield* Effect.flip(
            template("as", "agent-sandbox-system", { "wsproxy.allowedOrigins[0]": "not an origin" }),
          )
          assert.include(refused.message, "wsproxy")
        }),
    )

    it.effect(
      "renders wsproxy's sync: off grants nothing; a hub gets its token, :9004 and read-only rules; a member its writes",
      () =>
        Effect.gen(function* () {
          const ws = OperatorPermissions.wsproxyPermissions
          const envOf = (objects: ReadonlyArray<Rendered>) =>
            Object.fromEntries(
              find(
                objects,
                "Deployment",
                "as-agent-sandbox-wsproxy",
              ).spec.template.spec.containers[0].env.map((e: { name: string; value: string }) => [
                e.name,
                e.value,
              ]),
            )
          const off = yield* template("as", "agent-sandbox-system")
          assert.strictEqual(envOf(off).AGENT_SANDBOX_SYNC_MODE, "off")
          assert.isUndefined(
            off.find((o) => o.kind === "Secret" && o.metadata.name === "agent-sandbox-sync-token"),
          )
          assert.deepStrictEqual(
            find(off, "Service", "as-agent-sandbox-wsproxy").spec.ports.map((p: { name: string }) => p.name),
            ["terminal"],
          )

          const hub = yield* template("as", "agent-sandbox-system", { "wsproxy.sync.mode": "hub" })
          assert.strictEqual(envOf(hub).AGENT_SANDBOX_SYNC_MODE, "hub")
          assert.strictEqual(envOf(hub).AGENT_SANDBOX_SYNC_PORT, "9004")
          assert.isAtLeast(
            Buffer.from(find(hub, "Secret", "agent-sandbox-sync-token").data.key, "base64").length,
            32,
          )
          const service = find(hub, "Service", "as-agent-sandbox-wsproxy")
          assert.deepStrictEqual(
            service.spec.ports.map((p: { name: string; port: number }) => [p.name, p.port]),
            [
              ["terminal", 9003],
              ["sync", 9004],
            ],
          )
          const hubRules = [...ws, ...OperatorPermissions.syncHubPermissions]
          assert.deepStrictEqual(
            rulesOf(hub, "ClusterRole", undefined, true),
            expectedLines(["watched", "cluster"], hubRules),
          )
          assert.deepStrictEqual(
            rulesOf(hub, "Role", "agent-sandbox-system", true),
            expectedLines(["system"], hubRules),
          )

          const member = yield* template("as", "agent-sandbox-system", {
            "wsproxy.sync.mode": "member",
            "wsproxy.sync.hubUrl": "http://hub.example:9004",
            watchNamespace: "sandboxes",
          })
          assert.strictEqual(envOf(member).AGENT_SANDBOX_SYNC_HUB_URL, "http://hub.example:9004")
          assert.strictEqual(envOf(member).AGENT_SANDBOX_SYNC_NAMESPACES, "sandboxes")
          // A member makes no token (it is given the hub's) and serves no :9004.
          assert.isUndefined(
            member.find((o) => o.kind === "Secret" && o.metadata.name === "agent-sandbox-sync-token"),
          )
          assert.strictEqual(find(member, "Service", "as-agent-sandbox-wsproxy").spec.ports.length, 1)
          const memberRules = [...ws, ...OperatorPermissions.syncMemberPermissions]
          assert.deepStrictEqual(
            rulesOf(member, "ClusterRole", undefined, true),
            expectedLines(["cluster"], memberRules),
          )
          assert.deepStrictEqual(
            rulesOf(member, "Role", "sandboxes", true),
            expectedLines(["watched"], memberRules),
          )
          assert.deepStrictEqual(
            rulesOf(member, "Role", "agent-sandbox-system", true),
            expectedLines(["system"], memberRules),
          )
          const refused = yield* Effect.flip(
            template("as", "agent-sandbox-system", { "wsproxy.sync.mode": "member" }),
          )
          assert.include(refused.message, "hubUrl")
        }),
    )

    it.effect("bootstraps an admin key the SDKs accept, its hash record, and the envd token key", () =>
      Effect.gen(function* () {
        const objects = yield* template("as", "agent-sandbox-system")
        const key = decode(find(objects, "Secret", "as-agent-sandbox-admin-key").data.key)
        assert.match(key, /^e2b_[0-9a-f]{40}$/)
        const sha256 = createHash("sha256").update(key).digest("hex")
        const record = find(objects, "Secret", `api-key-${sha256.slice(0, 16)}`)
        assert.strictEqual(record.metadata.labels?.["sandbox.agent-sandbox.dev/api-key"], "true")
        assert.deepStrictEqual(
          {
            tenant: decode(record.data.tenant),
            sha256: decode(record.data.sha256),
            admin: decode(record.data.admin),
          },
          { tenant: "admin", sha256, admin: "true" },
        )
        assert.isAtLeast(
          Buffer.from(find(objects, "Secret", "agent-sandbox-e2b-token-key").data.key, "base64").length,
          32,
        )
        // The key is never in a ConfigMap.
        for (const configMap of objects.filter((o) => o.kind === "ConfigMap"))
          assert.notInclude(JSON.stringify(configMap), key)
      }),
    )

    it.effect("renders the optional demo pool, ServiceMonitor, dashboards and test hook", () =>
      Effect.gen(function* () {
        const objects = yield* template("as", "agent-sandbox-system", {
          "demo.enabled": "true",
          "metrics.serviceMonitor.enabled": "true",
          "metrics.dashboards.enabled": "true",
        })
        assert.strictEqual(find(objects, "SandboxPool", "demo").spec.templateRef.name, "demo")
        assert.strictEqual(find(objects, "ServiceMonitor").spec.endpoints[0].port, "metrics")
        // Every generated dashboard, as is, in a ConfigMap Grafana's sidecar picks up.
        const dashboards = readdirSync(join(chartDir, "dashboards")).filter((f) => f.endsWith(".json"))
        assert.isAtLeast(dashboards.length, 4)
        for (const file of dashboards) {
          const configMap = find(
            objects,
            "ConfigMap",
            `as-agent-sandbox-dashboard-${file.replace(/\.json$/, "")}`,
          )
          assert.strictEqual(configMap.metadata.labels?.grafana_dashboard, "1")
          assert.deepStrictEqual(
            JSON.parse(configMap.data[file]),
            JSON.parse(readFileSync(join(chartDir, "dashboards", file), "utf8")),
          )
        }
        assert.strictEqual(
          find(objects, "Pod", "as-agent-sandbox-test").metadata.annotations?.["helm.sh/hook"],
          "test",
        )
      }),
    )

    it.effect(
      "helm test's Pod calls the API Service by its DNS name, or tests.url on clusters without kube-proxy, with the admin key",
      () =>
        Effect.gen(function* () {
          const env = (objects: ReadonlyArray<Rendered>) => {
            const pod = find(objects, "Pod", "as-agent-sandbox-test")
            const [container] = pod.spec.containers
            return Object.fromEntries(
              container.env.map((e: { name: string; value?: string; valueFrom?: unknown }) => [
                e.name,
                e.value ?? e.valueFrom,
              ]),
            )
          }
          const byDefault = env(yield* template("as", "agent-sandbox-system"))
          assert.deepStrictEqual(byDefault, {
            AGENT_SANDBOX_URL: "http://as-agent-sandbox-api.agent-sandbox-system.svc:8080",
            AGENT_SANDBOX_POOL: "demo",
            AGENT_SANDBOX_API_KEY: { secretKeyRef: { name: "as-agent-sandbox-admin-key", key: "key" } },
          })
          const noKubeProxy = yield* template("as", "agent-sandbox-system", {
            hostNetwork: "true",
            listenAddress: "10.0.0.5",
            "tests.url": "http://10.0.0.5:8080",
            "tests.pool": "python",
          })
          assert.strictEqual(env(noKubeProxy).AGENT_SANDBOX_URL, "http://10.0.0.5:8080")
          assert.strictEqual(env(noKubeProxy).AGENT_SANDBOX_POOL, "python")
          // Only the operator joins the node's network; the test Pod stays on the Pod network.
          assert.strictEqual(
            find(noKubeProxy, "Deployment", "as-agent-sandbox").spec.template.spec.hostNetwork,
            true,
          )
          assert.isUndefined(find(noKubeProxy, "Pod", "as-agent-sandbox-test").spec.hostNetwork)
        }),
    )

    it.effect("NOTES.txt tells how to get the admin key, call the API and run helm test, never the key", () =>
      Effect.gen(function* () {
        const helm = yield* Helm.Helm
        // A client-side dry run prints the rendered manifest and then the notes.
        const notes = (...values: ReadonlyArray<string>) =>
          Effect.map(
            helm.run([
              "install",
              "as",
              chartDir,
              "-n",
              "agent-sandbox-system",
              "--dry-run=client",
              ...values,
            ]),
            ({ stdout }) => stdout.slice(stdout.indexOf("\nNOTES:\n")),
          )
        const shown = yield* notes()
        assert.include(
          shown,
          "export KEY=$(kubectl -n agent-sandbox-system get secret as-agent-sandbox-admin-key -o jsonpath='{.data.key}' | base64 -d)",
        )
        assert.include(
          shown,
          "kubectl -n agent-sandbox-system port-forward svc/as-agent-sandbox-api 8080:8080",
        )
        assert.include(shown, "helm test as -n agent-sandbox-system")
        assert.include(shown, "Metrics: http://<pod>:8082/metrics")
        assert.notMatch(shown, /e2b_[0-9a-f]{40}/)
        assert.notInclude(yield* notes("--set", "metrics.enabled=false"), "Metrics:")
      }),
    )

    it.effect(
      "needs nothing newer than Kubernetes 1.26: every object decodes strictly into the 1.26 API",
      () =>
        Effect.gen(function* () {
          const helm = yield* Helm.Helm
          const everyOption =
            "demo.enabled=true,metrics.serviceMonitor.enabled=true,metrics.prometheusRule.enabled=true,metrics.dashboards.enabled=true"
          for (const values of [everyOption, `${everyOption},watchNamespace=sandboxes`]) {
            const rendered = yield* helm.run([
              "template",
              "as",
              chartDir,
              "--namespace",
              "agent-sandbox-system",
              "--kube-version",
              "1.26.0",
              "--include-crds",
              "--set",
              values,
            ])
            const report = yield* Kube126.check(rendered.stdout)
            const objects = parseManifests(rendered.stdout)
            assert.strictEqual(report.length, objects.length, report.join("\n"))
            // Only the Prometheus Operator's kinds go unchecked; the pool and template are served by the chart's CRDs.
            assert.deepStrictEqual(
              report
                .filter((line) => !line.startsWith("ok:"))
                .map((line) => line.split(" ").slice(-2).join(" "))
                .sort(),
              [
                "PrometheusRule agent-sandbox-system/as-agent-sandbox",
                "SandboxPool default/demo",
                "SandboxTemplate /demo",
                "ServiceMonitor agent-sandbox-system/as-agent-sandbox",
              ],
            )
            for (const kind of [
              "CustomResourceDefinition",
              "Deployment",
              "PodDisruptionBudget",
              "ClusterRole",
              "Pod",
            ])
              assert.isTrue(
                report.some((line) => line.startsWith("ok:") && line.includes(` ${kind} `)),
                `${kind} checked`,
              )
          }
          // The checker does catch what 1.26 lacks: a Service asking for trafficDistribution (1.30+).
          const services = (yield* template("as", "agent-sandbox-system")).map((o) =>
            o.kind === "Service" ? { ...o, spec: { ...o.spec, trafficDistribution: "PreferClose" } } : o,
          )
          const error = yield* Effect.flip(Kube126.check(services.map((o) => stringify(o)).join("---\n")))
          assert.strictEqual(error.reason, "NewerApiRequired")
          assert.include(error.message, 'unknown field "spec.trafficDistribution"')
        }),
    )

    it.effect("rejects values the schema does not allow, naming the field", () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(template("as", "agent-sandbox-system", { replicaCount: "zero" }))
        assert.include(error.message, "replicaCount")
      }),
    )

    it.effect(
      "crossCluster: the extproc and Envoy (the tests' bootstrap, filled), tagged ids, nothing without it",
      () =>
        Effect.gen(function* () {
          const helm = yield* Helm.Helm
          const none = yield* template("as", "agent-sandbox-system")
          assert.isFalse(none.some((o) => o.metadata.name === "as-agent-sandbox-extproc"))
          const values = {
            "crossCluster.enabled": "true",
            "crossCluster.clusterTag": "east",
            "crossCluster.clusters[0].name": "west",
            "crossCluster.clusters[0].gateway": "envoy.west.internal:10000",
            "crossCluster.peers[0]": "extproc.west.internal:9003",
            "crossCluster.gateway": "envoy.east.internal:10000",
          }
          yield* helm.run([
            "lint",
            "--strict",
            chartDir,
            "--kube-version",
            "1.26.0",
            ...Object.entries(values).flatMap(([k, v]) => ["--set", `${k}=${v}`]),
          ])
          const objects = yield* template("as", "agent-sandbox-system", values)
          const operatorEnv = Object.fromEntries(
            find(objects, "Deployment", "as-agent-sandbox").spec.template.spec.containers[0].env.map(
              (e: { name: string; value?: string }) => [e.name, e.value],
            ),
          )
          assert.strictEqual(operatorEnv.AGENT_SANDBOX_CLUSTER_TAG, "east")
          const extproc = find(objects, "Deployment", "as-agent-sandbox-extproc")
          const container = extproc.spec.template.spec.containers[0]
          const env = Object.fromEntries(
            container.env.map((e: { name: string; value?: string }) => [e.name, e.value]),
          )
          assert.deepInclude(env, {
            AGENT_SANDBOX_CLUSTER_TAG: "east",
            AGENT_SANDBOX_EXTPROC_LOCAL_UPSTREAM: "as-agent-sandbox-e2b.agent-sandbox-system.svc:8090",
            AGENT_SANDBOX_EXTPROC_PEERS: "extproc.west.internal:9003",
            AGENT_SANDBOX_EXTPROC_GATEWAY: "envoy.east.internal:10000",
            AGENT_SANDBOX_EXTPROC_MISS_LOOKUPS_PER_SECOND: "10",
            AGENT_SANDBOX_EXTPROC_MISS_LOOKUP_BURST: "20",
          })
          assert.deepStrictEqual(container.command, ["/usr/local/bin/node", "/app/extproc.mjs"])
          // Its Pods are not the operator's: the operator's selector does not pick them up.
          const operatorSelector = find(objects, "Deployment", "as-agent-sandbox").spec.selector.matchLabels
          assert.notStrictEqual(
            extproc.spec.template.metadata.labels["app.kubernetes.io/name"],
            operatorSelector["app.kubernetes.io/name"],
          )
          const config = find(objects, "ConfigMap", "as-agent-sandbox-extproc").data
          const clusters = parseManifests(config["clusters.yaml"])[0] as unknown as {
            clusters: Array<{ name: string; gateway: string }>
          }
          assert.deepStrictEqual(clusters.clusters, [{ name: "west", gateway: "envoy.west.internal:10000" }])
          // Envoy's bootstrap: every placeholder filled, fail closed, ext_proc at the extproc Service.
          const bootstrap = config["envoy.yaml"] as string
          assert.notInclude(bootstrap, "${")
          assert.include(bootstrap, "failure_mode_allow: false")
          assert.include(
            bootstrap,
            "address: as-agent-sandbox-extproc.agent-sandbox-system.svc, port_value: 9002",
          )
          assert.strictEqual(find(objects, "Service", "as-agent-sandbox-envoy").spec.ports[0].port, 10000)
          const bad = yield* Effect.either(
            template("as", "agent-sandbox-system", {
              "crossCluster.enabled": "true",
              "crossCluster.clusterTag": "East-1",
            }),
          )
          assert.isTrue(bad._tag === "Left")
        }),
    )
  })
})
