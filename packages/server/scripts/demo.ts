// The demo `npm start` runs (README; start.ts bundles this file and runs the bundle): the operator
// and its API with a demo template and pool. With $KUBECONFIG it uses that cluster; without, it
// starts the local control plane (built from the Go module proxy by ./dev) and stops it on Ctrl-C.
import { KubeClient, KubeConfig, ResourceType } from "@agent-sandbox/kube"
import { SandboxResources } from "@agent-sandbox/operator"
import { ControlPlane } from "@agent-sandbox/testing"
import { NodeRuntime } from "@effect/platform-node"
import { Config, Effect, Layer } from "effect"
import * as ApiKey from "../src/auth/ApiKey.ts"
import * as OperatorServer from "../src/OperatorServer.ts"
import * as ServerConfig from "../src/ServerConfig.ts"
import { installCrds } from "../src/setup/InstallCrds.ts"
import { ensureNamespace } from "../src/setup/Namespaces.ts"

// A demo on a workstation listens on loopback only, unless told otherwise.
process.env.AGENT_SANDBOX_HOST ??= "127.0.0.1"

const demoTemplate = {
  apiVersion: "sandbox.agent-sandbox.dev/v1alpha1",
  kind: "SandboxTemplate",
  metadata: { name: "demo" },
  spec: {
    podTemplate: {
      spec: { containers: [{ name: "sandbox", image: "busybox:1.36", command: ["sleep", "infinity"] }] },
    },
    runtimes: [
      { name: "python", image: "python:3.12-slim" },
      { name: "node", image: "node:24-slim" },
    ],
  },
}

const demoPool = (namespace: string) => ({
  apiVersion: "sandbox.agent-sandbox.dev/v1alpha1",
  kind: "SandboxPool",
  metadata: { name: "demo", namespace },
  spec: { templateRef: { name: "demo" }, replicas: 3 },
})

/** CRDs, namespaces, the demo template and pool, and a fresh admin key (printed once). */
const prepare = Effect.gen(function* () {
  const config = yield* ServerConfig.ServerConfig
  const client = yield* KubeClient.KubeClient
  yield* installCrds
  yield* ensureNamespace(config.systemNamespace)
  yield* ensureNamespace(config.defaultNamespace)
  yield* client.apply(SandboxResources.SandboxTemplateResource, demoTemplate, { force: true })
  yield* client.apply(SandboxResources.SandboxPoolResource, demoPool(config.defaultNamespace), {
    force: true,
    namespace: config.defaultNamespace,
  })
  const key = ApiKey.mint()
  yield* client.create(
    ResourceType.Secret,
    ApiKey.toSecret(config.systemNamespace, { tenant: "demo", admin: true, sha256: ApiKey.hash(key) }),
    { namespace: config.systemNamespace },
  )
  const api = `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${config.apiPort}`
  yield* Effect.logInfo(
    [
      "demo ready: pool default/demo (3 warm Pods), template demo",
      `admin API key (shown once): ${key}`,
      `try: curl -s -X POST ${api}/v1/sandboxes -H 'x-api-key: ${key}' -H 'content-type: application/json' -d '{"pool":"demo"}'`,
      `OpenAPI: ${api}/openapi.json`,
    ].join("\n"),
  )
})

const cluster = Layer.unwrapEffect(
  Effect.map(Config.option(Config.string("KUBECONFIG")), (kubeconfig) =>
    kubeconfig._tag === "Some"
      ? KubeConfig.layerFromDefault
      : ControlPlane.layerKubeConfig.pipe(Layer.provide(ControlPlane.layer({ ownSession: true }))),
  ),
)

// prepare runs first: the operator's Lease and key Secrets live in namespaces it creates.
OperatorServer.layer.pipe(
  Layer.provide(Layer.effectDiscard(prepare).pipe(Layer.provide(KubeClient.layer))),
  Layer.provide(ServerConfig.layerFromEnv),
  Layer.provide(cluster),
  Layer.launch,
  NodeRuntime.runMain,
)
