/**
 * npm run bench:rss — the operator's memory with thousands of Pods watched. Starts its own control
 * plane, starts the operator as it ships (a child process running `npm run build`'s bundle, which
 * applies its own node settings), fills a pool of --pods warm Pods (5,000 by default; the operator
 * creates them itself), samples the operator's RSS once the watch has them all, then restarts the
 * operator onto the existing Pods (a full initial list) and samples again. Last, for comparison,
 * `node packages/server/src/main.ts` (the .ts sources, node's defaults) onto the same Pods.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { ControlPlane, FreePorts, Http } from "@agent-sandbox/testing"
import { OperatorHarness, OperatorNamespaces } from "@agent-sandbox/testing/operator"
import { NodeRuntime } from "@effect/platform-node"
import { type Duration, Effect } from "effect"
import * as BenchCluster from "../support/BenchCluster.ts"
import { codeVersion, describeHost, hostLine } from "../support/Host.ts"
import { progress, stderrLogger } from "../support/Log.ts"
import { bundleOperator } from "../support/OperatorBundle.ts"
import { type RunningOperator, spawnOperator } from "../support/OperatorProcess.ts"
import { type Memory, memory } from "../support/ProcessStats.ts"
import { createBenchPool } from "../support/WarmPool.ts"

const { values: flags } = parseArgs({
  options: {
    pods: { type: "string", default: "5000" },
    "target-mib": { type: "string", default: "256" },
    "cpu-prof": { type: "boolean", default: false },
    "node-args": { type: "string", default: "" },
    operator: { type: "string", default: "shipped" },
    "sources-row": { type: "boolean", default: true },
    out: { type: "string" },
  },
  allowNegative: true,
})
if (flags.operator !== "shipped" && flags.operator !== "sources") {
  throw new Error(`--operator must be shipped or sources, not ${flags.operator}`)
}
const shipped = flags.operator === "shipped"
const pods = Number(flags.pods)
const targetMiB = Number(flags["target-mib"])
const poolName = "rss"
const repoRoot = `${join(import.meta.dirname, "../..")}/`
// KWOK nodes take 1,000 Pods each.
const nodes = Math.max(3, Math.ceil((pods + 200) / 1000))
const nodeArgs = flags["node-args"].split(" ").filter((a) => a !== "")

interface Sampled {
  readonly label: string
  /** Judged against the target: the states with every Pod watched. */
  readonly judged: boolean
  readonly samples: ReadonlyArray<Memory>
}

/** `count` readings of VmRSS/VmHWM, `interval` apart: the heap settles (and is collected) meanwhile. */
const sample = (pid: number, count: number, interval: Duration.DurationInput) =>
  Effect.gen(function* () {
    const out: Array<Memory> = []
    for (let i = 0; i < count; i++) {
      if (i > 0) yield* Effect.sleep(interval)
      const m = memory(pid)
      if (m !== undefined) out.push(m)
    }
    return out
  })

const idleInOperatorView = (operator: RunningOperator, key: string, namespace: string) =>
  Effect.map(Http.call(`${operator.apiUrl}/v1/pools`, { key }), (r) =>
    Array.isArray(r.body)
      ? ((r.body as Array<{ namespace: string; name: string; idle: number; starting: number }>).find(
          (p) => p.namespace === namespace && p.name === poolName,
        ) ?? { idle: 0, starting: 0 })
      : { idle: 0, starting: 0 },
  )

const mib = (n: number) => n.toFixed(1)

/** How the measured process really runs: its command line and the malloc setting it started with. */
const runningAs = (pid: number, workDir: string): string => {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8")
      .split("\0")
      .filter((a) => a !== "")
    const arenas = readFileSync(`/proc/${pid}/environ`, "utf8")
      .split("\0")
      .find((e) => e.startsWith("MALLOC_ARENA_MAX="))
    const node = argv[0] === process.execPath ? "node" : (argv[0] ?? "?")
    return [arenas, node, ...argv.slice(1).map((a) => a.replace(`${workDir}/`, "").replace(repoRoot, ""))]
      .filter(Boolean)
      .join(" ")
  } catch {
    return "(gone)"
  }
}

const program = Effect.gen(function* () {
  const host = describeHost()
  const code = codeVersion()
  progress(`${hostLine(host)}; ${code}`)
  const controlPlane = yield* ControlPlane.ControlPlane
  const { namespace, system } = yield* OperatorNamespaces.make("bench-rss")
  const workDir = mkdtempSync(join(tmpdir(), "agent-sandbox-bench-rss-"))
  const key = yield* OperatorHarness.mintKey(system, "bench", false, OperatorHarness.noQuotas)
  const bundled = yield* bundleOperator(join(workDir, "operator.mjs"))
  const operatorOptions = (name: string, ports: ReadonlyArray<number>, entry: string | undefined) => ({
    kubeconfigPath: controlPlane.kubeconfigPath,
    namespace,
    systemNamespace: system,
    apiPort: ports[0]!,
    probePort: ports[1]!,
    logFile: join(workDir, `${name}.log`),
    cpuProfileDir: flags["cpu-prof"] ? join(workDir, `${name}-cpu-profile`) : undefined,
    nodeArgs,
    entry,
  })
  const judgedEntry = shipped ? bundled : undefined
  const results: Array<Sampled> = []
  let judgedCommand = ""
  let fillSeconds = 0
  let peakDuringFill = 0

  // 1. The operator that fills the pool: RSS empty, while filling, and with every Pod watched.
  yield* Effect.scoped(
    Effect.gen(function* () {
      const operator = yield* spawnOperator(
        operatorOptions("operator-fill", yield* FreePorts.freePorts(2), judgedEntry),
      )
      const pid = operator.pid!
      judgedCommand = runningAs(pid, workDir)
      progress(`operator ready: ${operator.description}; running as ${judgedCommand}`)
      yield* Effect.sleep("3 seconds")
      results.push({
        label: "just started, no Pods",
        judged: false,
        samples: yield* sample(pid, 3, "1 second"),
      })

      const started = Date.now()
      yield* createBenchPool(namespace, poolName, pods)
      let lastReport = 0
      while (true) {
        const view = yield* idleInOperatorView(operator, key, namespace)
        peakDuringFill = Math.max(peakDuringFill, memory(pid)?.rssMiB ?? 0)
        if (view.idle >= pods && view.starting === 0) break
        if (Date.now() - started > 20 * 60_000)
          return yield* Effect.fail(`pool not filled in 20 min: ${JSON.stringify(view)}`)
        if (Date.now() - lastReport > 10_000) {
          lastReport = Date.now()
          progress(
            `filling: ${view.idle}/${pods} idle (${view.starting} starting), operator RSS ${mib(memory(pid)?.rssMiB ?? 0)} MiB`,
          )
        }
        yield* Effect.sleep("1 second")
      }
      fillSeconds = (Date.now() - started) / 1000
      progress(`${pods} Pods idle+Ready in ${fillSeconds.toFixed(0)} s; sampling RSS`)
      results.push({
        label: `filled the pool itself, ${pods} Pods watched`,
        judged: true,
        samples: yield* sample(pid, 6, "2 seconds"),
      })
    }),
  )

  // 2. A fresh operator onto the existing Pods: one initial list of all of them, as after a restart.
  yield* Effect.scoped(
    Effect.gen(function* () {
      const operator = yield* spawnOperator(
        operatorOptions("operator-restart", yield* FreePorts.freePorts(2), judgedEntry),
      )
      progress(`restarted operator ready (watches listed): ${operator.description}`)
      yield* Effect.sleep("2 seconds")
      results.push({
        label: `restarted onto ${pods} existing Pods (one initial list)`,
        judged: true,
        samples: yield* sample(operator.pid!, 6, "2 seconds"),
      })
    }),
  )

  // 3. For comparison (not judged): the .ts sources with node's defaults, as `node main.ts` runs them.
  let sourcesCommand = ""
  if (shipped && flags["sources-row"]) {
    yield* Effect.scoped(
      Effect.gen(function* () {
        const operator = yield* spawnOperator(
          operatorOptions("operator-sources", yield* FreePorts.freePorts(2), undefined),
        )
        sourcesCommand = runningAs(operator.pid!, workDir)
        progress(`sources operator ready (watches listed): ${operator.description}`)
        yield* Effect.sleep("2 seconds")
        results.push({
          label: `for comparison: \`node main.ts\` (sources, node's defaults) onto ${pods} existing Pods`,
          judged: false,
          samples: yield* sample(operator.pid!, 6, "2 seconds"),
        })
      }),
    )
  }

  const lines = [
    `## Operator memory (${host.startedAt})`,
    "",
    `- Host: ${hostLine(host)}.`,
    `- Code: ${code}.`,
    `- Operator: ${shipped ? `\`npm run build\`'s bundle (packages/server/scripts/bundle.ts), started as a child process \`node ${[...nodeArgs, "operator.mjs"].join(" ")}\`; it applies its node settings (packages/server/scripts/NodeSettings.ts) itself` : `the .ts sources with node's defaults, a child process \`node ${[...nodeArgs, "packages/server/src/main.ts"].join(" ")}\``}. Running as: \`${judgedCommand}\` (Node ${process.version}).`,
    ...(sourcesCommand === "" ? [] : [`- Comparison row running as: \`${sourcesCommand}\`.`]),
    `- Watching one namespace with one pool of ${pods} warm Pods on ${nodes} KWOK nodes; the pool filled in ${fillSeconds.toFixed(0)} s, during which the operator's RSS peaked at ${mib(peakDuringFill)} MiB (1 s samples).`,
    "- RSS from /proc/<pid>/status: VmRSS (resident now) sampled several times 1–2 s apart, split into RssAnon (heaps, malloc) and RssFile (mapped files, mostly the node binary); VmHWM is the process's highest RSS so far. The target is judged on the last RSS sample.",
    "",
    "| operator | RSS min MiB | RSS last MiB | anon / file MiB | peak (VmHWM) MiB | target |",
    "| --- | --: | --: | --: | --: | --- |",
  ]
  for (const r of results) {
    const rss = r.samples.map((s) => s.rssMiB)
    const last = r.samples.at(-1)
    const peak = Math.max(...r.samples.map((s) => s.peakMiB))
    const verdict =
      r.judged && last !== undefined
        ? `**${last.rssMiB < targetMiB ? "PASS" : "MISS"}** < ${targetMiB} MiB`
        : ""
    lines.push(
      `| ${r.label} | ${mib(Math.min(...rss))} | ${mib(last?.rssMiB ?? Number.NaN)} | ${mib(last?.anonMiB ?? Number.NaN)} / ${mib(last?.fileMiB ?? Number.NaN)} | ${mib(peak)} | ${verdict} |`,
    )
  }
  lines.push(
    "",
    `- Load average at the end: ${describeHost()
      .loadAverage.map((l) => l.toFixed(2))
      .join(" / ")}.`,
  )
  const markdown = `${lines.join("\n")}\n`
  process.stdout.write(markdown)
  if (flags.out !== undefined) writeFileSync(flags.out, markdown)
  progress(`operator logs: ${workDir}`)
})

program.pipe(
  Effect.scoped,
  Effect.provide(BenchCluster.layer({ nodes })),
  Effect.provide(stderrLogger),
  NodeRuntime.runMain({ disablePrettyLogger: true }),
)
