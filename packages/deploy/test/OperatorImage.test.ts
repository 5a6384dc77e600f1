import { createHash } from "node:crypto"
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { KubeConfig } from "@agent-sandbox/kube"
import { RootfsOperator, TestNamespace } from "@agent-sandbox/testing"
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { runProgram } from "../src/Program.ts"

// `npm run image` (scripts/image.sh) built twice must give the same archive, byte for byte; the
// image's own rootfs (its glibc, its Node, its bundle) then runs the operator against the cluster,
// in a chroot inside an unprivileged user namespace (no container runtime needed).

const repoRoot = join(import.meta.dirname, "../../..")

const sha256File = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex")

const build = (out: string) =>
  Effect.flatMap(runProgram(join(repoRoot, "scripts/image.sh"), [out]), (r) =>
    r.code === 0
      ? Effect.succeed(r.stdout.trim().split("\n").at(-1) ?? "")
      : Effect.fail(`image.sh: ${r.stderr}`),
  )

const blob = (dir: string, digest: string) => join(dir, "blobs", digest.replace(":", "/"))

layer(KubeConfig.layerFromDefault, { timeout: "2 minutes", excludeTestServices: true })(
  "operator image",
  (it) => {
    it.scoped(
      "is reproducible, non-root, and its rootfs runs the operator",
      () =>
        Effect.gen(function* () {
          const dir = yield* Effect.acquireRelease(
            Effect.sync(() => mkdtempSync(join(tmpdir(), "operator-image-"))),
            (d) => Effect.sync(() => rmSync(d, { recursive: true, force: true })),
          )
          const first = yield* build(join(dir, "a"))
          const second = yield* build(join(dir, "b"))
          const archive = "agent-sandbox-operator.oci.tar"
          assert.match(first, /^sha256:[0-9a-f]{64}$/)
          assert.strictEqual(second, first, "same inputs, same manifest digest")
          assert.strictEqual(sha256File(join(dir, "b", archive)), sha256File(join(dir, "a", archive)))

          const layout = join(dir, "layout")
          mkdirSync(layout)
          yield* runProgram("tar", ["-xf", join(dir, "a", archive), "-C", layout])
          const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8"))
          assert.strictEqual(index.manifests[0].digest, first)
          assert.strictEqual(
            index.manifests[0].annotations["io.containerd.image.name"],
            "docker.io/agent-sandbox/operator:0.1.0",
          )
          const manifest = JSON.parse(readFileSync(blob(layout, first), "utf8"))
          const config = JSON.parse(readFileSync(blob(layout, manifest.config.digest), "utf8"))
          assert.strictEqual(config.config.User, "65532:65532")
          assert.deepStrictEqual(config.config.Entrypoint, ["/usr/local/bin/node", "/app/operator.mjs"])
          assert.strictEqual(config.created, "1970-01-01T00:00:00Z")

          const rootfs = join(dir, "rootfs")
          mkdirSync(rootfs)
          const unpacked = yield* runProgram("tar", [
            "-xzf",
            blob(layout, manifest.layers[0].digest),
            "-C",
            rootfs,
          ])
          assert.strictEqual(unpacked.code, 0, unpacked.stderr)

          // The operator from the image, against this cluster, in its own namespace.
          const namespace = yield* TestNamespace.make("image")
          yield* RootfsOperator.start({
            rootfs,
            command: [
              "/usr/bin/unshare",
              "--user",
              "--map-root-user",
              "/usr/sbin/chroot",
              rootfs,
              ...config.config.Entrypoint,
            ],
            imageEnv: config.config.Env,
            namespace,
          })
        }),
      600_000,
    )
  },
)
