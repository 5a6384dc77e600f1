import { createHash, randomBytes } from "node:crypto"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { KubeClient, KubeConfig, ResourceType } from "@agent-sandbox/kube"
import { Eventually, RootfsNodeAgent, TestNamespace } from "@agent-sandbox/testing"
import { assert, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { runProgram } from "../src/Program.ts"

// The node agent's image (scripts/node-agent-image.sh, the second half of `npm run image`) built
// twice must give the same archive, byte for byte; its rootfs holds what the agent runs (the
// sandbox-enter helper; util-linux's nsenter, ipcs and ipcrm for the recycle scrub), and its own
// glibc, Node and bundle start the agent against the cluster, in a chroot inside an unprivileged
// user namespace (root there, as the DaemonSet runs it; no container runtime needed).

const repoRoot = join(import.meta.dirname, "../../..")

const sha256File = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex")

const build = (out: string) =>
  Effect.flatMap(runProgram(join(repoRoot, "scripts/node-agent-image.sh"), [out]), (r) =>
    r.code === 0
      ? Effect.succeed(r.stdout.trim().split("\n").at(-1) ?? "")
      : Effect.fail(`node-agent-image.sh: ${r.stderr}`),
  )

const blob = (dir: string, digest: string) => join(dir, "blobs", digest.replace(":", "/"))

// A container runtime would mount /proc (the agent reads /proc/self/mountinfo for the cgroup
// mounts): a new pid and mount namespace with its own proc, ended with the unshare.
const inRootfs = (rootfs: string, command: ReadonlyArray<string>) => [
  "/usr/bin/unshare",
  "--user",
  "--map-root-user",
  "--mount",
  "--pid",
  "--fork",
  "--kill-child",
  `--mount-proc=${join(rootfs, "proc")}`,
  "/usr/sbin/chroot",
  rootfs,
  ...command,
]

const cluster = Layer.provideMerge(KubeClient.layer, KubeConfig.layerFromDefault)

layer(cluster, { timeout: "2 minutes", excludeTestServices: true })("node agent image", (it) => {
  it.scoped(
    "is reproducible, runs as root, holds the helper and util-linux tools, and its rootfs runs the agent",
    () =>
      Effect.gen(function* () {
        const dir = yield* Effect.acquireRelease(
          Effect.sync(() => mkdtempSync(join(tmpdir(), "node-agent-image-"))),
          (d) => Effect.sync(() => rmSync(d, { recursive: true, force: true })),
        )
        const first = yield* build(join(dir, "a"))
        const second = yield* build(join(dir, "b"))
        const archive = "agent-sandbox-node-agent.oci.tar"
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
          "docker.io/agent-sandbox/node-agent:0.1.0",
        )
        const manifest = JSON.parse(readFileSync(blob(layout, first), "utf8"))
        const config = JSON.parse(readFileSync(blob(layout, manifest.config.digest), "utf8"))
        // The chart's DaemonSet sets runAsUser: 0 too.
        assert.strictEqual(config.config.User, "0:0")
        assert.deepStrictEqual(config.config.Entrypoint, ["/usr/local/bin/node", "/app/node-agent.mjs"])
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
        mkdirSync(join(rootfs, "proc"))

        // The helper where the chart points AGENT_SANDBOX_NODE_AGENT_HELPER, and the scrub's tools
        // on the image's PATH; each util-linux tool runs with the image's own libraries.
        for (const path of [
          "/usr/local/bin/sandbox-enter",
          "/usr/bin/nsenter",
          "/usr/bin/ipcs",
          "/usr/bin/ipcrm",
        ]) {
          const stat = statSync(join(rootfs, path))
          assert.isTrue(stat.isFile(), path)
          assert.strictEqual(stat.mode & 0o111, 0o111, `${path} is executable`)
        }
        for (const tool of ["nsenter", "ipcs", "ipcrm"]) {
          const [unshare = "", ...chrooted] = inRootfs(rootfs, [tool, "--version"])
          const version = yield* runProgram(unshare, chrooted)
          assert.strictEqual(version.code, 0, `${tool}: ${version.stderr}`)
          assert.include(version.stdout, "util-linux")
        }

        const [program = "", ...args] = inRootfs(rootfs, config.config.Entrypoint)
        const imageEnv = Object.fromEntries(
          (config.config.Env as ReadonlyArray<string>).map((entry) => entry.split("=", 2)),
        )
        // With the DaemonSet's environment: /agent/healthz answers (its readiness probe) and the
        // agent's Lease is in the cluster.
        const namespace = yield* TestNamespace.make("agent-image")
        const port = yield* RootfsNodeAgent.start({
          rootfs,
          command: inRootfs(rootfs, config.config.Entrypoint),
          imageEnv: config.config.Env,
          nodeName: "image-node",
          namespace,
          grantKey: randomBytes(32).toString("base64"),
        })
        assert.isAbove(port, 0)
        const client = yield* KubeClient.KubeClient
        const holders = yield* Eventually.eventually(
          Effect.flatMap(client.list(ResourceType.Lease, { namespace }), (leases) =>
            leases.items.length > 0
              ? Effect.succeed(leases.items.map((lease) => lease.spec?.holderIdentity))
              : Effect.fail("no Lease yet"),
          ),
          { timeout: "30 seconds" },
        )
        assert.deepStrictEqual(holders, ["image-node"])

        // With the cluster (the kubeconfig start copied in) but none of the DaemonSet's settings:
        // the agent's configuration error, and exit.
        const unconfigured = yield* runProgram(program, args, { ...imageEnv, KUBECONFIG: "/tmp/kubeconfig" })
        assert.notStrictEqual(unconfigured.code, 0)
        assert.include(unconfigured.stdout + unconfigured.stderr, "AGENT_SANDBOX_NODE_NAME")
      }),
    600_000,
  )
})
