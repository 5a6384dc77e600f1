import { chmodSync, copyFileSync } from "node:fs"
import * as net from "node:net"
import { join } from "node:path"
import { KubeConfig } from "@agent-sandbox/kube"
import { Eventually, TestNamespace } from "@agent-sandbox/testing"
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { runProgram } from "../src/Program.ts"

// ./Dockerfile, unchanged, built by buildah (scripts/dockerfile-build.sh: the base images it names
// are made locally, no registry); the image's config is the one the chart expects, and its rootfs
// runs the operator against this cluster, as the user the image names.

const repoRoot = join(import.meta.dirname, "../../..")
const tag = "localhost/agent-sandbox/operator:dockerfile-test"

const ok = (r: { readonly code: number; readonly stdout: string; readonly stderr: string }, what: string) =>
  r.code === 0 ? Effect.succeed(r.stdout.trim()) : Effect.fail(`${what}: ${r.stderr}`)

const freePort = Effect.promise(
  () =>
    new Promise<number>((resolve) => {
      const server = net.createServer()
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as net.AddressInfo).port
        server.close(() => resolve(port))
      })
    }),
)

layer(KubeConfig.layerFromDefault, { timeout: "2 minutes", excludeTestServices: true })(
  "Dockerfile",
  (it) => {
    it.scoped(
      "builds with buildah from local base images and its operator serves /healthz",
      () =>
        Effect.gen(function* () {
          const built = yield* Effect.flatMap(
            runProgram(join(repoRoot, "scripts/dockerfile-build.sh"), [tag]),
            (r) => ok(r, "dockerfile-build.sh"),
          )
          const flags = (built.split("\n").at(-1) ?? "").split(" ")
          const buildah = (...args: ReadonlyArray<string>) =>
            Effect.flatMap(runProgram("buildah", [...flags, ...args]), (r) => ok(r, `buildah ${args[0]}`))

          const image = JSON.parse(yield* buildah("inspect", "--type", "image", tag))
          const config = image.OCIv1.config
          assert.strictEqual(config.User, "65532:65532")
          assert.deepStrictEqual(config.Entrypoint, ["/usr/local/bin/node", "/app/operator.mjs"])
          assert.strictEqual(config.WorkingDir, "/app")
          assert.include(config.Env, "NODE_ENV=production")

          // A working container of the image, its rootfs mounted; removed when the scope closes.
          const container = yield* Effect.acquireRelease(buildah("from", "--pull=never", tag), (c) =>
            Effect.ignore(buildah("rm", c)),
          )
          const rootfs = yield* buildah("mount", container)
          const namespace = yield* TestNamespace.make("dockerfile")
          copyFileSync(process.env.KUBECONFIG ?? "", join(rootfs, "tmp/kubeconfig"))
          // Readable by the image's non-root user (the copy keeps the original's 0600).
          chmodSync(join(rootfs, "tmp/kubeconfig"), 0o644)
          const probePort = yield* freePort
          const ports = [yield* freePort, yield* freePort, yield* freePort]
          // SIGKILLed when the scope closes: the fiber running it is interrupted.
          yield* Effect.forkScoped(
            runProgram("/usr/sbin/chroot", ["--userspec", config.User, rootfs, ...config.Entrypoint], {
              ...Object.fromEntries(config.Env.map((e: string) => e.split("=", 2))),
              KUBECONFIG: "/tmp/kubeconfig",
              AGENT_SANDBOX_HOST: "127.0.0.1",
              AGENT_SANDBOX_SYSTEM_NAMESPACE: namespace,
              AGENT_SANDBOX_WATCH_NAMESPACE: namespace,
              AGENT_SANDBOX_PROBE_PORT: String(probePort),
              AGENT_SANDBOX_API_PORT: String(ports[0]),
              AGENT_SANDBOX_E2B_PORT: String(ports[1]),
              AGENT_SANDBOX_METRICS_PORT: String(ports[2]),
            }),
          )
          yield* Eventually.eventually(
            Effect.flatMap(
              Effect.tryPromise(() => fetch(`http://127.0.0.1:${probePort}/healthz`)),
              (r) => (r.ok ? Effect.void : Effect.fail(`healthz ${r.status}`)),
            ),
            { timeout: "60 seconds", interval: "250 millis" },
          )
        }),
      600_000,
    )
  },
)
