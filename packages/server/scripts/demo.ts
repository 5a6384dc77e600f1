// The demo `npm start` runs (README; start.ts bundles this file and runs the bundle): the operator
// and its API with a demo template and pool. With $KUBECONFIG it uses that cluster; without, it
// starts the local control plane (built from the Go module proxy by ./dev) and stops it on Ctrl-C,
// with a real node beside the KWOK ones where this machine can run one (root, runc): the demo pool
// then runs real containers of the Python image built here; elsewhere KWOK, with one line saying why.
import { KubeClient, KubeConfig, ResourceType } from "@agent-sandbox/kube"
import { SandboxResources } from "@agent-sandbox/operator"
import { ControlPlane, RealNode, RealNodeError } from "@agent-sandbox/testing"
import { NodeRuntime } from "@effect/platform-node"
import { Config, Context, Effect, Either, Layer } from "effect"
import * as ApiKey from "../src/auth/ApiKey.ts"
import * as OperatorServer from "../src/OperatorServer.ts"
import * as ServerConfig from "../src/ServerConfig.ts"
import { installCrds } from "../src/setup/InstallCrds.ts"
import { ensureNamespace } from "../src/setup/Namespaces.ts"

// A demo on a workstation listens on loopback only, unless told otherwise.
process.env.AGENT_SANDBOX_HOST ??= "127.0.0.1"

/** The demo template's spec and where its Pods run (said in the "demo ready" lines). */
class DemoSandboxes extends Context.Tag("DemoSandboxes")<
  DemoSandboxes,
  { readonly spec: Record<string, unknown>; readonly where: string }
>() {}

const kwokSandboxes = {
  spec: {
    podTemplate: {
      spec: { containers: [{ name: "sandbox", image: "busybox:1.36", command: ["sleep", "infinity"] }] },
    },
    runtimes: [
      { name: "python", image: "python:3.12-slim" },
      { name: "node", image: "node:24-slim" },
    ],
  },
  where: "KWOK nodes (simulated: commands run on this machine)",
}

/** Debian's Python in real containers; the runtime `python` swaps in the image's second tag in place. */
const realNodeSandboxes = (node: RealNode.RealNodeShape) => ({
  spec: {
    podTemplate: {
      spec: {
        ...node.placement,
        automountServiceAccountToken: false,
        terminationGracePeriodSeconds: 5,
        containers: [{ name: "sandbox", image: node.images.python[0], imagePullPolicy: "Never" }],
      },
    },
    runtimes: [
      { name: "python", image: node.images.python[1] },
      { name: "busybox", image: node.images.base[0] },
    ],
  },
  where: `the real node ${node.nodeName} (kubelet, containerd, runc; image ${node.images.python[0]})`,
})

const demoTemplate = (spec: Record<string, unknown>) => ({
  apiVersion: "sandbox.agent-sandbox.dev/v1alpha1",
  kind: "SandboxTemplate",
  metadata: { name: "demo" },
  spec,
})

const demoPool = (namespace: string) => ({
  apiVersion: "sandbox.agent-sandbox.dev/v1alpha1",
  kind: "SandboxPool",
  metadata: { name: "demo", namespace },
  spec: {
    templateRef: { name: "demo" },
    replicas: 3,
    // A workstation demo runs no node agent to clear /dev/shm and SysV IPC between tenants, and its
    // tenants are one person: keep the fast recycle in place (docs/security.md, "Recycling").
    recyclePolicy: { type: "InPlace", acceptPodStateCarryOver: true },
  },
})

/** CRDs, namespaces, the demo template and pool, and a fresh admin key (printed once). */
const prepare = Effect.gen(function* () {
  const config = yield* ServerConfig.ServerConfig
  const client = yield* KubeClient.KubeClient
  const sandboxes = yield* DemoSandboxes
  yield* installCrds
  yield* ensureNamespace(config.systemNamespace)
  yield* ensureNamespace(config.defaultNamespace)
  yield* client.apply(SandboxResources.SandboxTemplateResource, demoTemplate(sandboxes.spec), {
    force: true,
  })
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
      `sandboxes run on ${sandboxes.where}`,
      `admin API key (shown once): ${key}`,
      `try: curl -s -X POST ${api}/v1/sandboxes -H 'x-api-key: ${key}' -H 'content-type: application/json' -d '{"pool":"demo"}'`,
      `OpenAPI: ${api}/openapi.json`,
    ].join("\n"),
  )
})

/** The local control plane, and a real node beside it unless the machine cannot run one (then one line why). */
const localCluster = Layer.unwrapScoped(
  Effect.gen(function* () {
    const controlPlane = yield* ControlPlane.make({ ownSession: true })
    const off = (yield* Config.string("AGENT_SANDBOX_REAL_NODE").pipe(Config.withDefault(""))) === "off"
    const node = off
      ? Either.left("AGENT_SANDBOX_REAL_NODE=off")
      : Either.mapLeft(yield* RealNode.attempt(controlPlane, { ownSession: true }), RealNodeError.describe)
    if (Either.isLeft(node))
      yield* Effect.logWarning(`real node ${node.left}; the demo pool runs on KWOK nodes`)
    return Layer.merge(
      KubeConfig.layerFromFile(controlPlane.kubeconfigPath),
      Layer.succeed(
        DemoSandboxes,
        Either.match(node, { onLeft: () => kwokSandboxes, onRight: realNodeSandboxes }),
      ),
    )
  }),
)

const cluster = Layer.unwrapEffect(
  Effect.map(Config.option(Config.string("KUBECONFIG")), (kubeconfig) =>
    kubeconfig._tag === "Some"
      ? Layer.merge(
          KubeConfig.layerFromDefault,
          Layer.succeed(DemoSandboxes, { ...kwokSandboxes, where: "the nodes of the KUBECONFIG cluster" }),
        )
      : localCluster,
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
