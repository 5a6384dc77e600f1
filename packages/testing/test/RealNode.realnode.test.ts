/**
 * The real node itself: a Pod's IP answers from the host, stopping puts the host back as it was
 * (mounts, links, addresses, iptables, sysctls, cgroups, processes), and a runner killed with its
 * node up leaves nothing the next start does not clear.
 */
import { spawn } from "node:child_process"
import * as http from "node:http"
import { KubeConfig } from "@agent-sandbox/kube"
import { assert, describe, it } from "@effect/vitest"
import * as k8s from "@kubernetes/client-node"
import { Effect, Exit, Layer, Scope } from "effect"
import { eventually } from "../src/Eventually.ts"
import { leftovers } from "../src/realnode/HostCleanup.ts"
import * as HostState from "../src/realnode/HostState.ts"
import * as MachineLock from "../src/realnode/MachineLock.ts"
import * as RealNode from "../src/realnode/RealNode.ts"
import { defaultLayout } from "../src/realnode/RealNodeLayout.ts"
import * as TestNamespace from "../src/TestNamespace.ts"

const realNodeScript = new URL("../scripts/real-node.ts", import.meta.url).pathname

const core = () => {
  const config = new k8s.KubeConfig()
  config.loadFromDefault()
  return config.makeApiClient(k8s.CoreV1Api)
}

/** A busybox httpd on the real node serving /etc (its image's marker file among it). */
const webPod = (namespace: string): k8s.V1Pod => ({
  metadata: { name: "web", namespace },
  spec: {
    ...RealNode.placement,
    automountServiceAccountToken: false,
    terminationGracePeriodSeconds: 1,
    containers: [
      {
        name: "web",
        image: RealNode.images.base[0],
        imagePullPolicy: "Never",
        command: ["httpd", "-f", "-p", "8080", "-h", "/etc"],
      },
    ],
  },
})

const get = (url: string) =>
  Effect.async<string, Error>((resume) => {
    const request = http.get(url, { timeout: 2_000 }, (response) => {
      let body = ""
      response.setEncoding("utf8").on("data", (chunk: string) => {
        body += chunk
      })
      response.on("end", () => resume(Effect.succeed(body)))
    })
    request.on("timeout", () => request.destroy(new Error("timed out")))
    request.on("error", (cause) => resume(Effect.fail(cause)))
  })

const runningPodIp = (namespace: string) =>
  eventually(
    Effect.flatMap(
      Effect.promise(() => core().readNamespacedPod({ name: "web", namespace })),
      (pod) =>
        pod.status?.podIP && pod.status.containerStatuses?.[0]?.ready
          ? Effect.succeed(pod.status.podIP)
          : Effect.fail("not ready"),
    ),
    { timeout: "60 seconds" },
  )

/**
 * The host with no real node up: captured holding the machine lock, since another suite's node may
 * be up until then (its kubelet's sysctls, bridge and processes are the machine's while it runs).
 */
const captureIdleHost = Effect.scoped(
  Effect.zipRight(MachineLock.acquire(defaultLayout.lockFile, "20 minutes"), HostState.capture),
)

describe("the real node", () => {
  it.live(
    "serves a Pod at its IP from the host, and stopping puts the host back as it was",
    () =>
      Effect.gen(function* () {
        const before = yield* captureIdleHost
        // Checked before the machine lock is released: another suite's node may start right after.
        let left: ReadonlyArray<string> = ["not stopped"]
        const afterStop = Effect.map(leftovers(defaultLayout, before), (found) => {
          left = found
        })
        const scope = yield* Scope.make()
        const exit = yield* Effect.exit(
          Effect.gen(function* () {
            const node = yield* Layer.buildWithScope(RealNode.layerFromEnvironment({ afterStop }), scope)
            const namespace = yield* TestNamespace.make("realnode-web").pipe(
              Effect.provide(KubeConfig.layerFromDefault),
              Scope.extend(scope),
            )
            yield* Effect.promise(() => core().createNamespacedPod({ namespace, body: webPod(namespace) }))
            const ip = yield* runningPodIp(namespace)
            assert.match(ip, /^10\.88\.0\.\d+$/)
            assert.strictEqual(yield* get(`http://${ip}:8080/agent-sandbox-image`), "base:1\n")
            // What the kubelet changed while it ran (the clean-up must undo it).
            const during = HostState.currentSysctls()
            assert.strictEqual(during["kernel.panic_on_oops"], "1")
            assert.isAbove((yield* leftovers(defaultLayout, before)).length, 0)
            return node
          }),
        )
        yield* Scope.close(scope, Exit.void)
        assert.isTrue(Exit.isSuccess(exit), `the node ran: ${Exit.isFailure(exit) ? exit.cause : ""}`)
        assert.deepStrictEqual(left, [])
      }),
    { timeout: 900_000 },
  )

  it.live(
    "a runner killed with its node up leaves nothing that the next start does not clear",
    () =>
      Effect.gen(function* () {
        const before = yield* captureIdleHost
        // A runner in another process; killed once its node is Ready: kubelet and containerd live on.
        const runner = yield* Effect.acquireRelease(
          Effect.sync(() =>
            spawn(process.execPath, [realNodeScript], {
              stdio: ["ignore", "pipe", "inherit"],
              env: process.env,
            }),
          ),
          (child) => Effect.sync(() => child.kill("SIGKILL")),
        )
        yield* Effect.async<void, Error>((resume) => {
          runner.stdout.setEncoding("utf8").on("data", (chunk: string) => {
            if (chunk.includes(`real node ${RealNode.nodeName} is Ready`)) resume(Effect.void)
          })
          runner.once("exit", (code) =>
            resume(Effect.fail(new Error(`the runner exited (${code}) before its node was up`))),
          )
        })
        runner.kill("SIGKILL")
        yield* eventually(
          Effect.flatMap(leftovers(defaultLayout, before), (found) =>
            found.some((what) => what.startsWith("process")) ? Effect.succeed(found) : Effect.fail(found),
          ),
        )
        // The next start finds the saved host state, clears it all, and runs; its stop restores the host.
        const scope = yield* Scope.make()
        let left: ReadonlyArray<string> = ["not stopped"]
        const afterStop = Effect.map(leftovers(defaultLayout, before), (found) => {
          left = found
        })
        const exit = yield* Effect.exit(
          Layer.buildWithScope(RealNode.layerFromEnvironment({ afterStop }), scope),
        )
        yield* Scope.close(scope, Exit.void)
        assert.isTrue(Exit.isSuccess(exit), `the next node ran: ${Exit.isFailure(exit) ? exit.cause : ""}`)
        assert.deepStrictEqual(left, [])
      }).pipe(Effect.scoped),
    // Its runner may first wait for another suite's real node to stop (one per machine).
    { timeout: 900_000 },
  )
})
