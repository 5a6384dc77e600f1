import { join } from "node:path"
import { KubeConfig } from "@agent-sandbox/kube"
import { RootfsOperator, TestNamespace } from "@agent-sandbox/testing"
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
          yield* RootfsOperator.start({
            rootfs,
            command: ["/usr/sbin/chroot", "--userspec", config.User, rootfs, ...config.Entrypoint],
            imageEnv: config.Env,
            namespace,
          })
        }),
      600_000,
    )
  },
)
