/**
 * The node agent on the real node: the E2B server forwards each envd request of a sandbox on that
 * node to the agent (a process on this machine, root like the DaemonSet's container), which runs
 * programs inside the sandbox container's namespaces and cgroups through sandbox-enter. The JS
 * SDK, unchanged, drives it; then what only the agent path has to prove: confinement (cgroup,
 * processes, files) and an agent that dies mid-command.
 */
import { existsSync, rmSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { NodeAgentGrant, NodeAgentLease } from "@agent-sandbox/envd"
import { KubeClient, KubeConfig, ResourceType } from "@agent-sandbox/kube"
import { Eventually, NodeAgentProcess, RealNode } from "@agent-sandbox/testing"
import { E2bOperator } from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import * as Sdk from "e2b"
import { Context, Effect, Layer } from "effect"
import * as EnteredOnHost from "./support/EnteredOnHost.ts"
import * as JsSdkCases from "./support/JsSdkCases.ts"
import * as PythonSuite from "./support/PythonSuite.ts"
import * as SdkServer from "./support/SdkServer.ts"

const [python1, python2] = RealNode.images.python

/** Python image 1 with a memory limit (the cgroup case), runtime `py` on image 2. */
const agentPool = {
  replicas: 2,
  sandbox: { defaultTimeoutSeconds: 300, maxTimeoutSeconds: 600, startupTimeoutSeconds: 60 },
  template: {
    podTemplate: {
      spec: RealNode.sandboxPodSpec(python1, { container: { resources: { limits: { memory: "96Mi" } } } }),
    },
    runtimes: [{ name: "py", image: python2, env: [{ name: "RUNTIME_FLAVOR", value: "py" }] }],
  },
}

class Agent extends Context.Tag("NodeAgent.realnode/Agent")<Agent, NodeAgentProcess.NodeAgentProcess>() {}

const server = Layer.scoped(
  SdkServer.SdkServer,
  E2bOperator.start({ prefix: "agent", pool: agentPool, nodeAgents: true }),
).pipe(Layer.provideMerge(Layer.provideMerge(KubeClient.layer, KubeConfig.layerFromDefault)))

const agent = Layer.scoped(
  Agent,
  Effect.gen(function* () {
    const node = yield* RealNode.RealNode
    const { systemNamespace } = yield* SdkServer.SdkServer
    return yield* NodeAgentProcess.start({
      nodeName: node.nodeName,
      systemNamespace,
      criSocket: node.criSocket,
      logFile: path.join(node.logsDir, "node-agent.log"),
    })
  }),
)

const env = Layer.scopedDiscard(
  Effect.flatMap(SdkServer.SdkServer, (s) =>
    SdkServer.useSdkEnvironment(SdkServer.sdkEnvironment(s, s.keys.tenantA)),
  ),
).pipe(
  Layer.provideMerge(agent),
  Layer.provideMerge(server),
  // Started first, stopped last: the operator's namespace (and its Pods) goes before the node.
  Layer.provideMerge(RealNode.layerFromEnvironment()),
)

const withSandbox = <A>(use: (sandbox: Sdk.Sandbox) => Promise<A>) =>
  Effect.promise(async () => {
    const sandbox = await Sdk.Sandbox.create("base")
    try {
      return await use(sandbox)
    } finally {
      await sandbox.kill()
    }
  })

/** The container id the kubelet reports for the sandbox's Pod. */
const containerIdOf = (sandbox: Sdk.Sandbox) =>
  Effect.gen(function* () {
    const { namespace } = yield* SdkServer.SdkServer
    const client = yield* KubeClient.KubeClient
    const pods = yield* client.list(ResourceType.Pod, {
      namespace,
      labelSelector: `sandbox.agent-sandbox.dev/sandbox-id=${sandbox.sandboxId}`,
    })
    const id = pods.items[0]?.status?.containerStatuses?.find((c) => c.name === "sandbox")?.containerID ?? ""
    return id.replace(/^containerd:\/\//, "")
  })

/** GET /files straight at the agent with a grant signed as the E2B server signs, naming `containerId`. */
const readThroughAgent = (sandbox: Sdk.Sandbox, containerId: string, file: string) =>
  Effect.gen(function* () {
    const { namespace, systemNamespace } = yield* SdkServer.SdkServer
    const client = yield* KubeClient.KubeClient
    const agent = yield* Agent
    const secret = yield* client.get(ResourceType.Secret, NodeAgentProcess.grantKeySecret, {
      namespace: systemNamespace,
    })
    const pod = (yield* client.list(ResourceType.Pod, {
      namespace,
      labelSelector: `sandbox.agent-sandbox.dev/sandbox-id=${sandbox.sandboxId}`,
    })).items[0]
    const grant = new NodeAgentGrant.Grant({
      sandboxId: sandbox.sandboxId,
      namespace,
      pod: pod?.metadata?.name ?? "",
      podUid: pod?.metadata?.uid ?? "",
      container: "sandbox",
      containerId,
      envs: {},
      expiresAt: Date.now() + 60_000,
    })
    const token = NodeAgentGrant.sign(Buffer.from(secret.data?.key ?? "", "base64"), grant)
    return yield* Effect.promise(async () => {
      const response = await fetch(`${agent.address}/files?path=${encodeURIComponent(file)}`, {
        headers: { [NodeAgentGrant.headerName]: token },
      })
      return { status: response.status, body: await response.text() }
    })
  })

/** Fails while any helper process of the agent's still serves `containerId` or its socket is there. */
const noneLeftFor = (agent: NodeAgentProcess.NodeAgentProcess, containerId: string, socket: string) =>
  Effect.suspend(() => {
    const left = EnteredOnHost.leftFor(agent, containerId)
    return left.length === 0 && !existsSync(socket)
      ? Effect.void
      : Effect.fail(`still there: ${JSON.stringify(left)}, socket ${existsSync(socket) ? "present" : "gone"}`)
  })

/** The one entered process serving `containerId` (fails the test unless there is exactly one). */
const theEnteredFor = (agent: NodeAgentProcess.NodeAgentProcess, containerId: string) => {
  const entered = EnteredOnHost.enteredFor(agent, containerId)
  assert.strictEqual(
    entered.length,
    1,
    `entered processes for ${containerId}: ${JSON.stringify(EnteredOnHost.scan(agent))}`,
  )
  return entered[0]!
}

/** The agent's Lease is there (so requests go to it). */
const agentAnnounced = Effect.gen(function* () {
  const { systemNamespace } = yield* SdkServer.SdkServer
  const node = yield* RealNode.RealNode
  const client = yield* KubeClient.KubeClient
  return yield* Eventually.eventually(
    client.get(ResourceType.Lease, NodeAgentLease.nameOf(node.nodeName), { namespace: systemNamespace }),
    { timeout: "30 seconds" },
  )
})

layer(env, { timeout: "600 seconds", excludeTestServices: true })("the node agent on the real node", (it) => {
  it.effect("announces itself with a Lease naming its node and address", () =>
    Effect.gen(function* () {
      const lease = yield* agentAnnounced
      const node = yield* RealNode.RealNode
      const { address } = yield* Agent
      assert.strictEqual(lease.spec?.holderIdentity, node.nodeName)
      assert.strictEqual(NodeAgentLease.liveAddress(lease, Date.now()), address)
    }),
  )

  it.effect("commands (output, exit codes, envs, cwd, stdin, background, kill)", () =>
    Effect.promise(() => JsSdkCases.commands(Sdk)),
  )
  it.effect("the sandbox's envVars in every command", () => Effect.promise(() => JsSdkCases.envVars(Sdk)))
  it.effect("a runtime chosen by the template tag (a new container after the image swap)", () =>
    Effect.promise(() => JsSdkCases.runtime(Sdk)),
  )
  it.effect("files (text, binary, 10 MB, list, exists, makeDir, rename, remove, watch)", () =>
    Effect.promise(() => JsSdkCases.files(Sdk)),
  )
  it.effect("a PTY session", () => Effect.promise(() => JsSdkCases.pty(Sdk)))
  it.effect("list, connect, getInfo, setTimeout and expiry, kill", () =>
    Effect.promise(() => JsSdkCases.lifecycle(Sdk)),
  )

  it.effect(
    "the Python SDK's suite, every SDK version",
    () =>
      Effect.gen(function* () {
        const s = yield* SdkServer.SdkServer
        const { missing, report } = yield* PythonSuite.notPassed(SdkServer.sdkEnvironment(s, s.keys.tenantA))
        assert.deepStrictEqual(
          missing,
          { "e2b-2.63.0": [], "e2b-2.20.3": [] },
          `pytest cases that did not pass, per SDK version\n${report}`,
        )
      }),
    600_000,
  )

  it.effect("a process runs in the container's cgroups: the memory limit applies to it", () =>
    withSandbox(async (sandbox) => {
      const cgroups = await sandbox.commands.run("cat /proc/self/cgroup; echo --; cat /proc/1/cgroup")
      const [own, containers] = cgroups.stdout.split("--\n")
      assert.strictEqual(own, containers)
      const hog = await sandbox.commands
        .run(`python3 -c "x = bytearray(300 * 1024 * 1024); print('allocated')"`)
        .then(
          (result) => result.exitCode,
          (error: unknown) => (error instanceof Sdk.CommandExitError ? error.exitCode : -1),
        )
      // Killed by the container's OOM killer (SIGKILL), not allowed 300 MiB beyond its 96 MiB limit.
      assert.strictEqual(hog, 137)
    }),
  )

  it.effect("a process sees the container's processes only, as the container's user", () =>
    withSandbox(async (sandbox) => {
      const ps = await sandbox.commands.run("ps -eo pid,args")
      assert.notMatch(ps.stdout, /kubelet|containerd|vitest/)
      const pids = ps.stdout.trim().split("\n").slice(1)
      assert.isAtMost(pids.length, 6, ps.stdout)
      const who = await sandbox.commands.run('id -u; printf "%s\\n" "$HOME"; grep CapEff /proc/self/status')
      assert.match(who.stdout, /^0\n\/root\nCapEff:\s+00000000a80425fb\n$/)
    }),
  )

  it.effect("a command killed through the SDK ends killed; one a signal ends on its own exits 128 + n", () =>
    withSandbox(async (sandbox) => {
      const sleeper = await sandbox.commands.run("sleep 600", { background: true })
      assert.isTrue(await sandbox.commands.kill(sleeper.pid))
      const killed = await sleeper.wait().then(
        () => undefined,
        (error: unknown) => error,
      )
      assert.instanceOf(killed, Sdk.CommandExitError)
      assert.strictEqual((killed as Sdk.CommandExitError).error, "signal: killed")
      const terminated = await sandbox.commands.run("kill -TERM $$").then(
        (result) => result.exitCode,
        (error: unknown) => (error instanceof Sdk.CommandExitError ? error.exitCode : -1),
      )
      assert.strictEqual(terminated, 143)
    }),
  )

  it.scoped(
    "one entered process per container serves every command, in the container's cgroup; nothing is left on the host once the sandbox is released",
    () =>
      Effect.gen(function* () {
        const agent = yield* Agent
        const sandbox = yield* Effect.promise(() => Sdk.Sandbox.create("base"))
        const containerId = yield* containerIdOf(sandbox)
        assert.notStrictEqual(containerId, "")
        const runs = yield* Effect.promise(() =>
          Promise.all([
            // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template.
            sandbox.commands.run('printf "%s|%s|%s" "$A" "$(pwd)" "${B:-unset}"', {
              envs: { A: "one" },
              cwd: "/tmp",
            }),
            // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template.
            sandbox.commands.run('printf "%s|%s|%s" "${A:-unset}" "$(pwd)" "$B"', {
              envs: { B: "two" },
              cwd: "/",
            }),
            // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template.
            sandbox.commands.run('printf "%s|%s" "${A:-unset}" "$(pwd)"'),
          ]),
        )
        assert.deepStrictEqual(
          runs.map((r) => r.stdout),
          ["one|/tmp|unset", "unset|/|two", "unset|/root"],
        )
        const entered = theEnteredFor(agent, containerId)
        assert.isTrue(existsSync(entered.socket), entered.socket)
        // The host's cgroupfs lists it in the container's own memory cgroup (the limit it shares).
        const procs = EnteredOnHost.memoryCgroupProcs(entered.containerPid)
        assert.isDefined(procs)
        assert.match(procs!, new RegExp(containerId))
        assert.include(EnteredOnHost.pidsIn(procs!), entered.pid)
        assert.strictEqual(EnteredOnHost.memoryCgroupProcs(entered.pid), procs)
        yield* Effect.promise(() => sandbox.kill())
        yield* Eventually.eventually(noneLeftFor(agent, containerId, entered.socket), {
          timeout: "60 seconds",
        })
      }),
  )

  it.scoped("a restarted container gets a new entered process; the old one ends with its container", () =>
    Effect.gen(function* () {
      const agent = yield* Agent
      const sandbox = yield* Effect.acquireRelease(
        Effect.promise(() => Sdk.Sandbox.create("base")),
        (s) => Effect.promise(() => s.kill()).pipe(Effect.ignore),
      )
      assert.strictEqual((yield* Effect.promise(() => sandbox.commands.run("echo one"))).stdout, "one\n")
      const before = yield* containerIdOf(sandbox)
      const first = theEnteredFor(agent, before)
      // The container's own process dies (as in an OOM kill); the kubelet starts the container again.
      process.kill(first.containerPid, "SIGKILL")
      yield* Eventually.eventually(noneLeftFor(agent, before, first.socket), { timeout: "30 seconds" })
      const after = yield* Eventually.eventually(
        Effect.filterOrFail(
          containerIdOf(sandbox),
          (id) => id !== "" && id !== before,
          () => "not restarted yet",
        ),
        { timeout: "90 seconds" },
      )
      const again = yield* Eventually.eventually(
        Effect.tryPromise(() => sandbox.commands.run("echo two")),
        { timeout: "90 seconds" },
      )
      assert.strictEqual(again.stdout, "two\n")
      const second = theEnteredFor(agent, after)
      assert.notStrictEqual(second.pid, first.pid)
      assert.notStrictEqual(second.containerPid, first.containerPid)
      // A grant naming the container before the restart (a confirmation made then, as for a tenant
      // whose sandbox was recycled since) is refused; one naming the running container is served.
      const stale = yield* readThroughAgent(sandbox, before, "/etc/hostname")
      assert.notStrictEqual(stale.status, 200, stale.body)
      assert.include(stale.body, "restarted")
      const current = yield* readThroughAgent(sandbox, after, "/etc/hostname")
      assert.strictEqual(current.status, 200, current.body)
      assert.include(
        EnteredOnHost.pidsIn(EnteredOnHost.memoryCgroupProcs(second.containerPid) ?? ""),
        second.pid,
      )
    }),
  )

  it.scoped("file operations stay inside the container's root (.., symlinks, /proc)", () =>
    Effect.gen(function* () {
      const node = yield* RealNode.RealNode
      const hostFile = path.join(node.logsDir, `host-secret-${process.pid}`)
      writeFileSync(hostFile, "host only")
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(hostFile, { force: true })))
      yield* withSandbox(async (sandbox) => {
        for (const attempt of [
          `/../../../../..${hostFile}`,
          `/proc/1/root${hostFile}`,
          `/proc/self/root${hostFile}`,
        ]) {
          assert.isFalse(await sandbox.files.exists(attempt), attempt)
        }
        await sandbox.commands.run("ln -s / /root/up && ln -s /proc/1/root /root/proc-root")
        assert.isFalse(await sandbox.files.exists(`/root/up${hostFile}`))
        assert.isFalse(await sandbox.files.exists(`/root/proc-root${hostFile}`))
        await sandbox.files.write(`/root/up/../../../tmp/written-${process.pid}`, "inside")
        assert.isFalse(existsSync(`/tmp/written-${process.pid}`))
        assert.strictEqual(await sandbox.files.read(`/tmp/written-${process.pid}`), "inside")
      })
    }),
  )

  it.scoped(
    "an agent killed mid-command: that command fails, the next fall back to exec, a restarted agent serves again",
    () =>
      Effect.gen(function* () {
        const running = yield* Agent
        const sandbox = yield* Effect.acquireRelease(
          Effect.promise(() => Sdk.Sandbox.create("base")),
          (s) => Effect.promise(() => s.kill()).pipe(Effect.ignore),
        )
        // Whatever fails below, the next cases find the agent running.
        yield* Effect.addFinalizer(() => Effect.ignore(running.restart))
        const containerId = yield* containerIdOf(sandbox)
        // Killed once its output streams (a response under way, not a request the agent never answered).
        let announceStarted: () => void = () => {}
        const started = new Promise<void>((resolve) => {
          announceStarted = resolve
        })
        const command = sandbox.commands
          .run("echo started; sleep 30", { onStdout: () => announceStarted() })
          .then(
            () => undefined,
            (error: unknown) => error,
          )
        yield* Effect.promise(() => started)
        // The command runs through the agent: its container's entered process is there.
        const before = theEnteredFor(running, containerId)
        yield* running.kill
        // Its entered processes and their programs' supervisors die with it (PR_SET_PDEATHSIG).
        yield* Eventually.eventually(
          Effect.suspend(() => {
            const left = EnteredOnHost.scan(running)
            return left.length === 0 ? Effect.void : Effect.fail(`left: ${JSON.stringify(left)}`)
          }),
          { timeout: "30 seconds" },
        )
        const cut = yield* Effect.promise(() => command)
        assert.instanceOf(cut, Error)
        // The SDK's health probe still finds the sandbox: it reports the broken stream, not a dead sandbox.
        assert.notMatch(String((cut as Error).message), /killed|not running/, String(cut))
        // The agent refuses connections now: requests are served through exec until it is back.
        const meanwhile = yield* Effect.promise(() => sandbox.commands.run("echo meanwhile"))
        assert.strictEqual(meanwhile.stdout, "meanwhile\n")
        assert.deepStrictEqual(EnteredOnHost.scan(running), [])
        yield* running.restart
        // Served by the restarted agent: a new entered process for the same container.
        const back = yield* Effect.promise(() => sandbox.commands.run("echo back"))
        assert.strictEqual(back.stdout, "back\n")
        assert.notStrictEqual(theEnteredFor(running, containerId).pid, before.pid)
      }),
  )

  it.effect("without an agent (it stopped and deleted its Lease), the same calls go through exec", () =>
    Effect.gen(function* () {
      const running = yield* Agent
      const { systemNamespace } = yield* SdkServer.SdkServer
      const node = yield* RealNode.RealNode
      const client = yield* KubeClient.KubeClient
      yield* running.stop
      yield* Eventually.eventually(
        client
          .get(ResourceType.Lease, NodeAgentLease.nameOf(node.nodeName), { namespace: systemNamespace })
          .pipe(Effect.flip),
        { timeout: "30 seconds" },
      )
      yield* withSandbox(async (sandbox) => {
        assert.strictEqual((await sandbox.commands.run("echo via exec")).stdout, "via exec\n")
      })
      yield* running.restart
      yield* agentAnnounced
    }),
  )
})
