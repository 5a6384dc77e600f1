/**
 * npm run bench:nodeagent — envd commands on the real node through the node agent against exec
 * through the API server, in the same run, through the unchanged E2B JS SDK:
 *   - `commands.run("true")` at each concurrency of --levels (1, 16, 64): p50/p99 and commands/s,
 *     the agent path and the exec path alternating (the agent stopped, its Lease deleted, for exec);
 *   - API-server requests per command on each path (its /metrics before and after);
 *   - where a command's time goes on the agent path, c=1: the SDK's whole call; GET /health through
 *     :8090 and the agent (routing, grant, forward, no program); the agent's own /health answer;
 *     starting a container's entered process (once per container); a program through the agent's
 *     shell in this process (connect, frames, fork+exec in the container) with `true` and with
 *     envd's launch script (and as the SDK's bash -l); and the bare `true` spawned from Node;
 *   - CPU per command: this process, the agent, the sandbox containers' cgroups;
 *   - the ceiling, at each concurrency of --levels: the bare command through the containers'
 *     entered processes from this process (SandboxShell.launch, no HTTP, Connect or envd), envd's
 *     launch script → `bash -l -c true` (what commands.run sends) and `sh -c true`, so the report
 *     gives agent ÷ exec and agent ÷ ceiling.
 * --agent-profile=DIR writes V8 CPU profiles of the agent there (one per agent run);
 * --sdk-profile=DIR one of the SDK's load process; --server-profile=DIR one of this process (the
 * E2B server and the operator) over the agent path's loads only, summarized in the report.
 * The operator and E2B server run in this process (as bench:realnode), the agent as a process of
 * its own (as the DaemonSet's), and the measured SDK loads in a third (SdkLoadProcess), so each
 * one's CPU per command shows apart. Markdown on stdout.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { NodeAgentLease, type SandboxShell, type SandboxTarget, ShellScript } from "@agent-sandbox/envd"
import { KubeClient, ResourceType } from "@agent-sandbox/kube"
import {
  CriRuntime,
  EnteredProcess,
  EnteredProcesses,
  NamespaceShell,
  NodeAgentConfig,
  SandboxContainers,
} from "@agent-sandbox/node-agent"
import { ControlPlane, NodeAgentProcess, RealNode } from "@agent-sandbox/testing"
import { E2bOperator } from "@agent-sandbox/testing/operator"
import { NodeRuntime } from "@effect/platform-node"
import { Sandbox } from "e2b"
import { Deferred, Duration, Effect, Exit, Layer, Stream } from "effect"
import * as ApiRequests from "../e2b/ApiRequests.ts"
import { reasonOf, useSdkEnvironment } from "../e2b/SdkOperations.ts"
import * as BenchCluster from "../support/BenchCluster.ts"
import { codeVersion, describeHost, hostLine } from "../support/Host.ts"
import { failureText, perSecond, runLoad } from "../support/LoadLoop.ts"
import { progress, stderrLogger } from "../support/Log.ts"
import { type LatencySummary, summarize } from "../support/Stats.ts"
import * as CpuPerCommand from "./CpuPerCommand.ts"
import * as SdkLoadProcess from "./SdkLoadProcess.ts"
import * as ServerProfile from "./ServerProfile.ts"
import * as SocketCount from "./SocketCount.ts"

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback
const levels = arg("levels", "1,16,64").split(",").map(Number)
const count = Number(arg("count", "400"))
const sandboxCount = Number(arg("sandboxes", "8"))
const breakdownSamples = Number(arg("samples", "200"))
// A directory for V8 CPU profiles of the agent (one per agent run, written when it stops).
const agentProfileDir = arg("agent-profile", "")
const sdkProfileDir = arg("sdk-profile", "")
const serverProfileDir = arg("server-profile", "")
const [python1] = RealNode.images.python

const pool = {
  replicas: sandboxCount,
  sandbox: { defaultTimeoutSeconds: 1800, maxTimeoutSeconds: 3600, startupTimeoutSeconds: 120 },
  template: {
    podTemplate: {
      spec: RealNode.sandboxPodSpec(python1),
    },
  },
}

const sdk = <A>(run: () => Promise<A>) => Effect.tryPromise({ try: run, catch: reasonOf })

const timed = <A, E, R>(times: Array<number>, effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const t0 = performance.now()
    const value = yield* effect
    times.push(performance.now() - t0)
    return value
  })

/** A child process to its exit, as Node spawns it. */
const spawnToExit = (command: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv) =>
  Effect.async<number, string>((resume) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] })
    child.stdout.resume()
    child.stderr.resume()
    child.once("error", (error) => resume(Effect.fail(error.message)))
    child.once("close", (code) => resume(code === 0 ? Effect.succeed(0) : Effect.fail(`exit ${code}`)))
  })

/** One program through the shell's `launch`, to its exit (0, or a failure with its reason). */
const bareCommand = (
  shell: SandboxShell.SandboxShellShape,
  target: SandboxTarget.SandboxTarget,
  argv: ReadonlyArray<string>,
  input: Uint8Array | undefined,
) =>
  Effect.gen(function* () {
    const launch = shell.launch
    if (launch === undefined) return yield* Effect.fail("the shell has no launch")
    const done = yield* Deferred.make<void, string>()
    const program = yield* Effect.mapError(
      launch(
        target,
        { argv },
        {
          stdout: () => {},
          stderr: () => {},
          end: (exit) =>
            Deferred.unsafeDone(
              done,
              Exit.isSuccess(exit) && exit.value._tag === "Exited" && exit.value.exitCode === 0
                ? Effect.void
                : Effect.fail(Exit.isSuccess(exit) ? JSON.stringify(exit.value) : "connection lost"),
            ),
        },
      ),
      (error) => error.message,
    )
    if (input !== undefined) program.write(input)
    program.endInput()
    yield* Deferred.await(done)
  })

const ms = (value: number) => value.toFixed(value < 10 ? 2 : 1)

const latencyRow = (what: string, summary: LatencySummary, extra: string) =>
  `| ${what} | ${summary.count} | ${ms(summary.p50)} | ${ms(summary.p99)} | ${extra} |`

const program = Effect.gen(function* () {
  progress(`${hostLine(describeHost())}; ${codeVersion()}`)
  const controlPlane = yield* ControlPlane.ControlPlane
  const node = yield* RealNode.RealNode
  const client = yield* KubeClient.KubeClient
  const server = yield* E2bOperator.start({ prefix: "bench-agent", pool, nodeAgents: true })
  yield* useSdkEnvironment({
    E2B_API_URL: server.url,
    E2B_SANDBOX_URL: server.url,
    E2B_API_KEY: server.keys.tenantA,
  })
  const agent = yield* NodeAgentProcess.start({
    nodeName: node.nodeName,
    systemNamespace: server.systemNamespace,
    criSocket: node.criSocket,
    logFile: path.join(node.logsDir, "bench-node-agent.log"),
    kubeconfig: controlPlane.kubeconfigPath,
    ...(agentProfileDir === "" ? {} : { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${agentProfileDir}`] }),
  })
  const sandboxes: Array<Sandbox> = []
  for (let i = 0; i < sandboxCount; i++) {
    sandboxes.push(yield* sdk(() => Sandbox.create("base", { timeoutMs: 1_800_000 })))
  }
  progress(`${sandboxes.length} sandboxes on the real node, agent at ${agent.address}`)
  const sdkLoad = yield* SdkLoadProcess.start(
    sandboxes.map((s) => s.sandboxId),
    sdkProfileDir,
  )
  const serverProfile = yield* ServerProfile.make(serverProfileDir)
  const sockets = yield* SocketCount.make(
    Number(new URL(server.url).port),
    Number(new URL(agent.address).port),
  )
  const sandboxPods = (yield* client.list(ResourceType.Pod, { namespace: server.namespace })).items.filter(
    (pod) =>
      sandboxes.some((s) => pod.metadata?.labels?.["sandbox.agent-sandbox.dev/sandbox-id"] === s.sandboxId),
  )
  const podUids = sandboxPods.map((pod) => pod.metadata?.uid ?? "")

  const leaseGone = Effect.gen(function* () {
    for (;;) {
      const gone = yield* client
        .get(ResourceType.Lease, NodeAgentLease.nameOf(node.nodeName), { namespace: server.systemNamespace })
        .pipe(
          Effect.as(false),
          Effect.catchAll(() => Effect.succeed(true)),
        )
      if (gone) return
      yield* Effect.sleep("100 millis")
    }
  })

  /** Runs probe commands until the path they take is `path` (exec count moves only on exec). */
  const settle = (path: "agent" | "exec") =>
    Effect.gen(function* () {
      for (let i = 0; i < 100; i++) {
        const before = yield* ApiRequests.sample
        yield* sdk(() => sandboxes[0]!.commands.run("true"))
        const after = yield* ApiRequests.sample
        if (after.execs > before.execs === (path === "exec")) return
        yield* Effect.sleep("200 millis")
      }
      return yield* Effect.fail(`requests did not settle on the ${path} path`)
    })

  const usePath = (path: "agent" | "exec") =>
    path === "exec"
      ? Effect.zipRight(Effect.zipRight(agent.stop, leaseGone), settle("exec"))
      : Effect.zipRight(agent.restart, settle("agent"))

  const rows: Array<string> = []
  const apiRows: Array<string> = []
  const cpuRows: Array<string> = []
  const throughput = new Map<string, number>()
  for (const path of ["agent", "exec"] as const) {
    yield* usePath(path)
    // Warm-up: connections, caches (the agent's container lookups), JIT.
    yield* sdkLoad.run({ count: 64, concurrency: 16 })
    // What the E2B server's process (the operator in it) spends with no command running: at low
    // rates it is a large part of its CPU per command, so the report also gives it subtracted.
    const idleRate = yield* CpuPerCommand.idleMillisPerSecond(Duration.seconds(5))
    for (const c of levels) {
      const n = Math.max(count, c * 4)
      const before = yield* ApiRequests.sample
      const cpuBefore = CpuPerCommand.sample(yield* agent.pid, podUids, sdkLoad.pid)
      const socketsBefore = sockets.sample()
      if (path === "agent") yield* serverProfile.resume
      const load = yield* sdkLoad.run({ count: n, concurrency: c })
      if (path === "agent") yield* serverProfile.pause
      const cpu = CpuPerCommand.perCommand(
        cpuBefore,
        CpuPerCommand.sample(yield* agent.pid, podUids, sdkLoad.pid),
        load.latencies.length,
      )
      const socketsOpened = SocketCount.opened(socketsBefore, sockets.sample())
      const after = yield* ApiRequests.sample
      const api = ApiRequests.perOperation(before, after, load.latencies.length)
      cpuRows.push(
        `| ${path}, c=${c} | ${CpuPerCommand.cell(cpu.sdk)} | ${CpuPerCommand.cell(cpu.self)} | ${CpuPerCommand.cell(cpu.self === undefined || load.latencies.length === 0 ? undefined : cpu.self - (idleRate * load.seconds) / load.latencies.length)} (idle ${idleRate.toFixed(1)} ms/s) | ${path === "agent" ? CpuPerCommand.cell(cpu.agent) : "–"} | ${CpuPerCommand.cell(cpu.containers)} | ${socketsOpened} |`,
      )
      const rate = perSecond(load)
      throughput.set(`${path}/${c}`, rate)
      progress(`${path} c=${c}: ${load.latencies.length} commands, ${rate.toFixed(1)}/s`)
      rows.push(
        latencyRow(`${path}, c=${c}`, summarize(load.latencies), `${rate.toFixed(1)} | ${failureText(load)}`),
      )
      const others = api.requests.map(([key, perOp]) => `${key} ${perOp.toFixed(2)}`).join(", ") || "none"
      apiRows.push(`| ${path}, c=${c} | ${api.execs.toFixed(2)} | ${others} |`)
    }
  }

  // Where the time goes (agent path, c=1).
  yield* usePath("agent")
  const breakdown: Array<string> = []
  const ceilingRows: Array<string> = []
  const sdkCall: Array<number> = []
  for (let i = 0; i < breakdownSamples; i++) {
    yield* timed(
      sdkCall,
      sdk(() => sandboxes[0]!.commands.run("true")),
    )
  }
  breakdown.push(
    latencyRow(
      "SDK commands.run('true') → :8090 → agent → entered process → sh → true",
      summarize(sdkCall),
      "",
    ),
  )

  const sandbox = sandboxes[0]!
  const envdHeaders = {
    "E2b-Sandbox-Id": sandbox.sandboxId,
    "X-Access-Token": (sandbox as unknown as { envdAccessToken?: string }).envdAccessToken ?? "",
  }
  const health: Array<number> = []
  for (let i = 0; i < breakdownSamples; i++) {
    yield* timed(
      health,
      sdk(() => fetch(`${server.url}/health`, { headers: envdHeaders }).then((r) => r.arrayBuffer())),
    )
  }
  breakdown.push(
    latencyRow(
      "GET /health via :8090 (resolve, token check, a fresh Pod read; answered by the server)",
      summarize(health),
      "",
    ),
  )
  const agentHealth: Array<number> = []
  for (let i = 0; i < breakdownSamples; i++) {
    yield* timed(
      agentHealth,
      sdk(() => fetch(`${agent.address}/agent/healthz`).then((r) => r.arrayBuffer())),
    )
  }
  breakdown.push(latencyRow("GET the agent's own health (HTTP floor)", summarize(agentHealth), ""))

  // The helper as the agent spawns it, from this process (root, like the agent).
  const helper = yield* NodeAgentProcess.buildHelper
  const pod = (yield* client.list(ResourceType.Pod, {
    namespace: server.namespace,
    labelSelector: `sandbox.agent-sandbox.dev/sandbox-id=${sandbox.sandboxId}`,
  })).items[0]!
  const target = { namespace: server.namespace, pod: pod.metadata?.name ?? "", container: "sandbox" }
  const socketDir = mkdtempSync(path.join(os.tmpdir(), "bench-entered-"))
  const agentParts = Layer.mergeAll(SandboxContainers.layer, EnteredProcesses.layer).pipe(
    Layer.provide(CriRuntime.layer(node.criSocket)),
    Layer.provide(
      NodeAgentConfig.layer({
        nodeName: node.nodeName,
        systemNamespace: server.systemNamespace,
        host: "127.0.0.1",
        port: 0,
        advertisedAddress: "",
        criSocket: node.criSocket,
        helper,
        socketDir,
        enteredIdleSeconds: 600,
        leaseDurationSeconds: 15,
        maxScrubGrants: 1024,
        grantKey: new Uint8Array(0),
      }),
    ),
  )
  yield* Effect.gen(function* () {
    const containers = yield* SandboxContainers.SandboxContainers
    const container = yield* containers.locate(target)
    // The once-per-container cost: spawn the helper from Node, enter, answer "ready".
    const starts: Array<number> = []
    for (let i = 0; i < Math.min(breakdownSamples, 50); i++) {
      const started = yield* timed(
        starts,
        EnteredProcess.start(helper, container, path.join(socketDir, `start-${i}.sock`)),
      )
      yield* started.stop
    }
    breakdown.push(
      latencyRow(
        "starting an entered process (spawn sandbox-enter, enter, ready; once per container)",
        summarize(starts),
        "",
      ),
    )
    const shell = yield* NamespaceShell.make
    const through = (label: string, argv: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        const times: Array<number> = []
        for (let i = 0; i < breakdownSamples; i++) yield* timed(times, shell.run(target, argv))
        breakdown.push(latencyRow(label, summarize(times), ""))
      })
    yield* through("the agent's shell, in process: connect, fork+exec /bin/true in the container, exit", [
      "/bin/true",
    ])
    // envd's launch script in short: cd home, print the pid, exec the command.
    yield* through("the agent's shell, in process: sh -c (launch script) true", [
      "/bin/sh",
      "-c",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template.
      'cd -- "${HOME:-/}" 2>/dev/null || cd /; echo "$$"; exec "$@" < /dev/null',
      "envd",
      "true",
    ])
    // What envd runs for the SDK's commands.run("true"): the launch script (pid line, the
    // environment block on stdin) exec'ing bash as a login shell, as E2B's SDK asks.
    const launch = ShellScript.launchArgv({
      cmd: "/bin/bash",
      args: ["-l", "-c", "true"],
      cwd: "",
      stdin: false,
      tty: false,
    })
    const envBlock = ShellScript.envBlock({})
    const launched: Array<number> = []
    for (let i = 0; i < breakdownSamples; i++) {
      yield* timed(launched, shell.run(target, launch, Stream.make(envBlock)))
    }
    breakdown.push(
      latencyRow(
        "the agent's shell, in process: envd's launch script (env block on stdin) → bash -l -c true",
        summarize(launched),
        "",
      ),
    )

    // The ceiling: the bare command through each container's entered process, from this process
    // with the agent idle (no HTTP, Connect, grant or envd table), at the same concurrencies.
    const targets = sandboxPods.map((p) => ({
      namespace: server.namespace,
      pod: p.metadata?.name ?? "",
      container: "sandbox",
    }))
    const bare: ReadonlyArray<readonly [string, string, ReadonlyArray<string>, Uint8Array | undefined]> = [
      ["bash-l", "envd's launch script (env block on stdin) → bash -l -c true", launch, envBlock],
      ["sh", "sh -c true", ["/bin/sh", "-c", "true"], undefined],
    ]
    for (const [key, label, argv, input] of bare) {
      for (const c of levels) {
        const n = Math.max(count, c * 4)
        const cpuBefore = CpuPerCommand.sample(undefined, podUids)
        const load = yield* runLoad({ count: n, concurrency: c, timeLimit: Duration.minutes(5) }, (i) =>
          bareCommand(shell, targets[i % targets.length]!, argv, input),
        )
        const cpu = CpuPerCommand.perCommand(
          cpuBefore,
          CpuPerCommand.sample(undefined, podUids),
          load.latencies.length,
        )
        const rate = perSecond(load)
        throughput.set(`${key}/${c}`, rate)
        progress(`ceiling ${key} c=${c}: ${load.latencies.length} commands, ${rate.toFixed(1)}/s`)
        ceilingRows.push(
          `| ${label}, c=${c} | ${load.latencies.length} | ${ms(summarize(load.latencies).p50)} | ${ms(summarize(load.latencies).p99)} | ${rate.toFixed(1)} | ${CpuPerCommand.cell(cpu.containers)} | ${CpuPerCommand.cell(cpu.self)} | ${failureText(load)} |`,
        )
      }
    }
  }).pipe(Effect.scoped, Effect.provide(agentParts))
  rmSync(socketDir, { recursive: true, force: true })
  const bareTrue: Array<number> = []
  for (let i = 0; i < breakdownSamples; i++) {
    yield* timed(bareTrue, spawnToExit("/bin/true", [], {}))
  }
  breakdown.push(
    latencyRow("/bin/true on the host, spawned from Node (no namespaces)", summarize(bareTrue), ""),
  )

  for (const s of sandboxes) yield* sdk(() => s.kill()).pipe(Effect.ignore)

  const ratios = levels
    .map((c) => {
      const a = throughput.get(`agent/${c}`) ?? Number.NaN
      const e = throughput.get(`exec/${c}`) ?? Number.NaN
      return `c=${c}: ${(a / e).toFixed(1)}×`
    })
    .join(", ")
  const ratio = (over: string, under: string) =>
    levels
      .map((c) => {
        const a = throughput.get(`${over}/${c}`) ?? Number.NaN
        const b = throughput.get(`${under}/${c}`) ?? Number.NaN
        return `c=${c}: ${(a / b).toFixed(2)}×`
      })
      .join(", ")
  const report = [
    `Node agent vs exec through the API server: E2B JS SDK \`commands.run("true")\`, ${sandboxCount} sandboxes (${python1}) on the real node (kubelet v1.36.3, containerd 2.3.7, runc 1.1.5); ${hostLine(describeHost())}; ${codeVersion()}`,
    "",
    "| path | n | p50 ms | p99 ms | commands/s | failures |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
    `Agent / exec commands per second: ${ratios}.`,
    "",
    "API-server requests per command:",
    "",
    "| path | pods/exec | other requests |",
    "| --- | --- | --- |",
    ...apiRows,
    "",
    "CPU per command (ms; the SDK's load process; the E2B server's, which also runs the operator; the sandbox containers' cgroups hold each command's supervisor, launch script and program, not runc exec's work on the exec path):",
    "",
    "| path | SDK process | E2B server process | E2B server process, its idle rate subtracted | node agent | sandbox containers | connections opened in the load, SDK → server / server → agent |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...cpuRows,
    ...(yield* serverProfile.report),
    "",
    `The ceiling: the bare command through each container's entered process, from this process (no HTTP, Connect or envd; the agent idle), ${sandboxCount} sandboxes in turn:`,
    "",
    "| command | n | p50 ms | p99 ms | commands/s | sandbox containers, CPU ms per command | this process, CPU ms per command | failures |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ...ceilingRows,
    "",
    `Agent / ceiling (launch script → bash -l -c true, what commands.run sends) commands per second: ${ratio("agent", "bash-l")}.`,
    `Ceiling / exec commands per second: launch script → bash -l: ${ratio("bash-l", "exec")}; sh -c true: ${ratio("sh", "exec")} (≥ 10× exec is reachable only where these are).`,
    "",
    `Where a command's time goes on the agent path (c=1, ${breakdownSamples} each):`,
    "",
    "| step | n | p50 ms | p99 ms | |",
    "| --- | --- | --- | --- | --- |",
    ...breakdown,
  ].join("\n")
  process.stdout.write(`${report}\n`)
  const out = arg("out", "")
  if (out !== "") writeFileSync(out, `${report}\n`)
})

program.pipe(
  Effect.scoped,
  Effect.provide(Layer.provideMerge(RealNode.layer(), BenchCluster.layer({ nodes: 1 }))),
  Effect.provide(stderrLogger),
  NodeRuntime.runMain({ disablePrettyLogger: true }),
)
