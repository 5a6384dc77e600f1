import { execFile } from "node:child_process"
import { PassThrough } from "node:stream"
import { promisify } from "node:util"
import { KubeConfig, KubeError } from "@agent-sandbox/kube"
import { assert, layer } from "@effect/vitest"
import * as k8s from "@kubernetes/client-node"
import { Duration, Effect, Either } from "effect"
import { eventually } from "../src/Eventually.ts"
import * as KwokConfig from "../src/KwokConfig.ts"
import * as TestNamespace from "../src/TestNamespace.ts"

// Against the control plane the vitest global setup started ($KUBECONFIG): real etcd, kube-apiserver,
// controller manager and scheduler, with KWOK playing the nodes.

const execFileAsync = promisify(execFile)

const api = <A>(operation: string, call: (config: k8s.KubeConfig) => Promise<A>) =>
  Effect.flatMap(KubeConfig.KubeConfig, (config) =>
    Effect.tryPromise({ try: () => call(config), catch: KubeError.fromUnknown(operation) }),
  )
const core = <A>(operation: string, call: (core: k8s.CoreV1Api) => Promise<A>) =>
  api(operation, (config) => call(config.makeApiClient(k8s.CoreV1Api)))

const check = (condition: boolean, message: string) =>
  condition ? Effect.void : Effect.fail(new Error(message))

const isTrue = (conditions: ReadonlyArray<{ type: string; status: string }> | undefined, type: string) =>
  (conditions ?? []).some((condition) => condition.type === type && condition.status === "True")

const createPod = (
  namespace: string,
  name: string,
  image = "registry.invalid/anything:1",
  annotations: Record<string, string> = {},
) =>
  core("create pod", (api) =>
    api.createNamespacedPod({
      namespace,
      body: { metadata: { name, annotations }, spec: { containers: [{ name: "main", image }] } },
    }),
  )

const setImage = (namespace: string, name: string, image: string) =>
  core("patch image", (api) =>
    api.patchNamespacedPod(
      { namespace, name, body: { spec: { containers: [{ name: "main", image }] } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.StrategicMergePatch),
    ),
  )

const mainStatus = (pod: k8s.V1Pod) => pod.status?.containerStatuses?.find((s) => s.name === "main")

const readyPod = (namespace: string, name: string) =>
  eventually(
    Effect.gen(function* () {
      const pod = yield* core("get pod", (api) => api.readNamespacedPod({ namespace, name }))
      yield* check(
        pod.status?.phase === "Running" && isTrue(pod.status.conditions, "Ready"),
        `${name} not Ready`,
      )
      return pod
    }),
    { timeout: Duration.seconds(60) },
  )

const kubectl = (args: ReadonlyArray<string>) =>
  Effect.promise(() => execFileAsync("/usr/bin/kubectl", [...args], { encoding: "utf8" })).pipe(
    Effect.map(({ stdout }) => stdout),
  )

layer(KubeConfig.layerFromDefault, { timeout: "2 minutes", excludeTestServices: true })(
  "local control plane",
  (it) => {
    it.effect("has three Ready KWOK nodes", () =>
      Effect.gen(function* () {
        const nodes = yield* core("list nodes", (api) => api.listNode({ labelSelector: "type=kwok" }))
        assert.strictEqual(nodes.items.length, 3)
        for (const node of nodes.items) {
          assert.isTrue(isTrue(node.status?.conditions as never, "Ready"), `${node.metadata?.name} Ready`)
          assert.strictEqual(node.metadata?.annotations?.["kwok.x-k8s.io/node"], "fake")
        }
      }),
    )

    it.scoped(
      "schedules a Pod onto a KWOK node with the real scheduler, and it turns Running and Ready",
      () =>
        Effect.gen(function* () {
          const namespace = yield* TestNamespace.make("schedule")
          yield* createPod(namespace, "any-image")
          const pod = yield* readyPod(namespace, "any-image")
          assert.match(pod.spec?.nodeName ?? "", /^kwok-node-\d$/)
          // Set by kube-scheduler when it binds the Pod.
          assert.isTrue(isTrue(pod.status?.conditions as never, "PodScheduled"))
          assert.strictEqual(pod.status?.containerStatuses?.[0]?.image, "registry.invalid/anything:1")
          assert.match(pod.status?.podIP ?? "", /^10\.244\./)
        }),
    )

    it.scoped("collects garbage: a ConfigMap owned by another goes when its owner is deleted", () =>
      Effect.gen(function* () {
        const namespace = yield* TestNamespace.make("gc")
        const owner = yield* core("create owner", (api) =>
          api.createNamespacedConfigMap({ namespace, body: { metadata: { name: "owner" } } }),
        )
        yield* core("create dependent", (api) =>
          api.createNamespacedConfigMap({
            namespace,
            body: {
              metadata: {
                name: "dependent",
                ownerReferences: [
                  { apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata!.uid! },
                ],
              },
            },
          }),
        )
        yield* core("delete owner", (api) =>
          api.deleteNamespacedConfigMap({ namespace, name: "owner", propagationPolicy: "Background" }),
        )
        yield* eventually(
          core("get dependent", (api) => api.readNamespacedConfigMap({ namespace, name: "dependent" })).pipe(
            Effect.either,
            Effect.flatMap((result) =>
              check(Either.isLeft(result) && result.left.reason === "NotFound", "dependent still there"),
            ),
          ),
          { timeout: Duration.seconds(60) },
        )
      }),
    )

    it.scoped("execs through the API server: locally, as nobody, in the Pod's own directory", () =>
      Effect.gen(function* () {
        const namespace = yield* TestNamespace.make("exec")
        yield* createPod(namespace, "shell")
        yield* readyPod(namespace, "shell")
        const [hello, uid, dir] = (yield* kubectl([
          "exec",
          "--namespace",
          namespace,
          "shell",
          "--",
          "sh",
          "-c",
          "echo hello; id -u; pwd",
        ]))
          .trim()
          .split("\n")
        assert.strictEqual(hello, "hello")
        assert.strictEqual(uid, process.getuid?.() === 0 ? "65534" : String(process.getuid?.()))
        assert.match(dir ?? "", new RegExp(`/pods/${namespace}/shell$`))

        // The same through @kubernetes/client-node's WebSocket exec.
        const config = yield* KubeConfig.KubeConfig
        const stdout = new PassThrough()
        let output = ""
        stdout.on("data", (chunk: Buffer) => {
          output += chunk.toString("utf8")
        })
        const status = yield* Effect.async<k8s.V1Status>((resume) => {
          new k8s.Exec(config)
            .exec(namespace, "shell", "main", ["echo", "hello"], stdout, null, null, false, (status) =>
              resume(Effect.succeed(status)),
            )
            .catch((cause) => resume(Effect.die(cause)))
        })
        assert.strictEqual(status.status, "Success")
        assert.strictEqual(output, "hello\n")
      }),
    )

    it.scoped("restarts a container in place when its image changes, with a fresh directory", () =>
      Effect.gen(function* () {
        const namespace = yield* TestNamespace.make("image")
        yield* createPod(namespace, "swap", "example.com/one:1")
        const before = yield* readyPod(namespace, "swap")
        yield* kubectl([
          "exec",
          "--namespace",
          namespace,
          "swap",
          "--",
          "sh",
          "-c",
          "echo data > left-behind",
        ])
        yield* kubectl(["set", "image", "--namespace", namespace, "pod/swap", "main=example.com/two:2"])
        const after = yield* eventually(
          Effect.gen(function* () {
            const pod = yield* core("get pod", (api) => api.readNamespacedPod({ namespace, name: "swap" }))
            const status = pod.status?.containerStatuses?.[0]
            yield* check(status?.image === "example.com/two:2" && status.ready === true, "not restarted yet")
            return pod
          }),
        )
        assert.strictEqual(after.status?.containerStatuses?.[0]?.restartCount, 1)
        assert.strictEqual(after.spec?.nodeName, before.spec?.nodeName)
        assert.strictEqual(after.status?.podIP, before.status?.podIP)
        assert.isTrue(isTrue(after.status?.conditions as never, "Ready"))
        assert.strictEqual(yield* kubectl(["exec", "--namespace", namespace, "swap", "--", "ls", "-A"]), "")
      }),
    )

    it.scoped("plays an image pull: the old image, not Ready, until the Pod's delay has passed", () =>
      Effect.gen(function* () {
        const namespace = yield* TestNamespace.make("image-delay")
        yield* createPod(namespace, "slow", "example.com/one:1", {
          [KwokConfig.DelayAnnotation.imageChange]: "1500ms",
        })
        const before = yield* readyPod(namespace, "slow")
        assert.match(mainStatus(before)?.imageID ?? "", /^example\.com\/one@sha256:[0-9a-f]{64}$/)
        yield* setImage(namespace, "slow", "example.com/two:2")
        const stopped = yield* eventually(
          Effect.gen(function* () {
            const pod = yield* core("get pod", (api) => api.readNamespacedPod({ namespace, name: "slow" }))
            yield* check(mainStatus(pod)?.state?.waiting?.reason === "ContainerCreating", "not stopped yet")
            return pod
          }),
        )
        // The kubelet is "pulling": the status still names the old image and nothing is Ready.
        assert.strictEqual(mainStatus(stopped)?.image, "example.com/one:1")
        assert.strictEqual(mainStatus(stopped)?.containerID, mainStatus(before)?.containerID)
        assert.isFalse(isTrue(stopped.status?.conditions as never, "Ready"))
        const after = yield* readyPod(namespace, "slow")
        assert.strictEqual(mainStatus(after)?.image, "example.com/two:2")
        assert.strictEqual(mainStatus(after)?.restartCount, 1)
        assert.notStrictEqual(mainStatus(after)?.containerID, mainStatus(before)?.containerID)
      }),
    )

    it.scoped("restarts for an equivalent reference: the same image pinned by its own digest", () =>
      Effect.gen(function* () {
        const namespace = yield* TestNamespace.make("image-pin")
        yield* createPod(namespace, "pin", "example.com/one:1")
        const before = yield* readyPod(namespace, "pin")
        const digest = (mainStatus(before)?.imageID ?? "").split("@")[1]
        yield* setImage(namespace, "pin", `example.com/one:1@${digest}`)
        const after = yield* eventually(
          Effect.gen(function* () {
            const pod = yield* core("get pod", (api) => api.readNamespacedPod({ namespace, name: "pin" }))
            yield* check(
              mainStatus(pod)?.restartCount === 1 && mainStatus(pod)?.ready === true,
              "not restarted",
            )
            return pod
          }),
        )
        assert.strictEqual(mainStatus(after)?.imageID, mainStatus(before)?.imageID)
      }),
    )

    it.scoped("fails to pull a failing image: ErrImagePull, never Ready; a good image recovers it", () =>
      Effect.gen(function* () {
        const namespace = yield* TestNamespace.make("image-fail")
        yield* createPod(namespace, "bad-start", "example.com/one:fail")
        yield* createPod(namespace, "bad-swap", "example.com/one:1")
        yield* readyPod(namespace, "bad-swap")
        yield* setImage(namespace, "bad-swap", "invalid.example.com/two:2")
        for (const name of ["bad-start", "bad-swap"]) {
          const pod = yield* eventually(
            Effect.gen(function* () {
              const pod = yield* core("get pod", (api) => api.readNamespacedPod({ namespace, name }))
              yield* check(mainStatus(pod)?.state?.waiting?.reason === "ErrImagePull", `${name} not failing`)
              return pod
            }),
          )
          assert.isFalse(isTrue(pod.status?.conditions as never, "Ready"), `${name} not Ready`)
        }
        yield* setImage(namespace, "bad-swap", "example.com/one:1")
        const recovered = yield* readyPod(namespace, "bad-swap")
        assert.strictEqual(mainStatus(recovered)?.image, "example.com/one:1")
        // The failing image never ran a container: one restart in all, as a kubelet counts it.
        assert.strictEqual(mainStatus(recovered)?.restartCount, 1)
      }),
    )

    it.scoped("enforces RBAC: a ServiceAccount token without roles is forbidden", () =>
      Effect.gen(function* () {
        const namespace = yield* TestNamespace.make("rbac")
        yield* core("create service account", (api) =>
          api.createNamespacedServiceAccount({ namespace, body: { metadata: { name: "powerless" } } }),
        )
        const token = yield* core("create token", (api) =>
          api.createNamespacedServiceAccountToken({
            namespace,
            name: "powerless",
            body: { spec: { audiences: [], expirationSeconds: 600 } },
          }),
        )
        const admin = yield* KubeConfig.KubeConfig
        const cluster = admin.getCurrentCluster()!
        const asServiceAccount = new k8s.KubeConfig()
        asServiceAccount.loadFromOptions({
          clusters: [cluster],
          users: [{ name: "powerless", token: token.status?.token }],
          contexts: [{ name: "powerless", cluster: cluster.name, user: "powerless" }],
          currentContext: "powerless",
        })
        const denied = yield* Effect.tryPromise({
          try: () => asServiceAccount.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace }),
          catch: KubeError.fromUnknown("list pods as powerless"),
        }).pipe(Effect.flip)
        assert.strictEqual(denied.reason, "Forbidden")
        assert.strictEqual(denied.status, 403)
      }),
    )
  },
)
