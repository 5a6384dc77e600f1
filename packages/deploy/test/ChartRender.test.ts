import { createHash } from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Helm, OperatorPermissions } from "../src/index.ts"
import { chartDir, find, type Rendered, template } from "./ChartFiles.ts"

const decode = (value: string) => Buffer.from(value, "base64").toString("utf8")

const isWsproxy = (o: Rendered) => o.metadata.labels?.["app.kubernetes.io/component"] === "wsproxy"

/** The rules of every Role/ClusterRole rendered (the operator's, or wsproxy's), flattened, per kind and namespace. */
const rulesOf = (objects: ReadonlyArray<Rendered>, kind: string, namespace?: string, wsproxy = false) =>
  OperatorPermissions.linesOf(
    objects
      .filter(
        (o) =>
          o.kind === kind &&
          isWsproxy(o) === wsproxy &&
          (namespace === undefined || o.metadata.namespace === namespace),
      )
      .flatMap((o) => o.rules),
  )

const expectedLines = (
  scopes: ReadonlyArray<OperatorPermissions.Scope>,
  permissions = OperatorPermissions.operatorPermissions,
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

    it.effect("grants exactly the operator's permissions, cluster-wide or in the watched namespace", () =>
      Effect.gen(function* () {
        const all = yield* template("as", "agent-sandbox-system")
        assert.deepStrictEqual(rulesOf(all, "ClusterRole"), expectedLines(["cluster", "watched"]))
        assert.deepStrictEqual(rulesOf(all, "Role", "agent-sandbox-system"), expectedLines(["system"]))

        const one = yield* template("as", "agent-sandbox-system", { watchNamespace: "sandboxes" })
        assert.deepStrictEqual(rulesOf(one, "ClusterRole"), expectedLines(["cluster"]))
        assert.deepStrictEqual(rulesOf(one, "Role", "sandboxes"), expectedLines(["watched"]))
        assert.deepStrictEqual(rulesOf(one, "Role", "agent-sandbox-system"), expectedLines(["system"]))
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
        })
        assert.strictEqual(find(objects, "SandboxPool", "demo").spec.templateRef.name, "demo")
        assert.strictEqual(find(objects, "ServiceMonitor").spec.endpoints[0].port, "metrics")
        assert.strictEqual(
          find(objects, "Pod", "as-agent-sandbox-test").metadata.annotations?.["helm.sh/hook"],
          "test",
        )
      }),
    )

    it.effect("rejects values the schema does not allow, naming the field", () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(template("as", "agent-sandbox-system", { replicaCount: "zero" }))
        assert.include(error.message, "replicaCount")
      }),
    )
  })
})
