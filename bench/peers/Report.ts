/**
 * The side-by-side report (pure): claim latency and throughput for the bare PATCH, the operator and
 * the peer at each level; API writes and CPU per claim; release and refill; time to first
 * instruction; the scale curve; and the issue's targets as ratios measured in the same run.
 */
import { failureText, type LoadResult, perSecond } from "../support/LoadLoop.ts"
import type { Memory } from "../support/ProcessStats.ts"
import { summarize } from "../support/Stats.ts"
import type { ScalePoint } from "./ScaleCurve.ts"

/** What one path did at one level, over its rounds. */
export interface PathResult {
  readonly load: LoadResult
  /** CPU ms per operation, by process. */
  readonly cpu: ReadonlyMap<string, number>
  /** API requests per operation by "VERB resource", all clients. */
  readonly requests: ReadonlyArray<readonly [string, number]>
}

/** Refill: from the end of a claim round to the pool's status reporting it full again. */
export interface RefillResult {
  /** Seconds per round. */
  readonly seconds: ReadonlyArray<number>
  readonly failures: ReadonlyArray<string>
  /** Per sandbox refilled. */
  readonly cpu: ReadonlyMap<string, number>
  readonly requests: ReadonlyArray<readonly [string, number]>
}

export interface System {
  readonly claim: PathResult
  readonly release: PathResult
  readonly refill: RefillResult
}

export interface Level {
  readonly concurrency: number
  readonly patch: PathResult
  readonly ours: System
  readonly peer: System
}

export interface PeersResults {
  readonly title: string
  readonly header: ReadonlyArray<string>
  readonly footer: ReadonlyArray<string>
  readonly count: number
  readonly rounds: number
  readonly levels: ReadonlyArray<Level>
  readonly tffi: { readonly ours: LoadResult; readonly peer: LoadResult } | undefined
  readonly scale: ReadonlyArray<ScalePoint>
  /** Where a scale point could not be measured, and why. */
  readonly scaleError: string | undefined
}

export interface Verdict {
  readonly pass: boolean
  readonly target: string
  readonly measured: string
}

/** Verbs that change something (server-side apply is counted as APPLY). */
const writeVerbs = new Set(["POST", "PUT", "PATCH", "DELETE", "DELETECOLLECTION", "APPLY"])

/**
 * API writes per operation: every client's, except leader-election Lease renewals, which both systems
 * make on a timer whatever the load (and which would be charged to whichever path ran longest).
 */
export const writesPerOperation = (requests: ReadonlyArray<readonly [string, number]>): number =>
  requests.reduce((sum, [key, n]) => {
    const [verb = "", resource = ""] = key.split(" ")
    return writeVerbs.has(verb) && resource !== "leases" ? sum + n : sum
  }, 0)

const writesRatio = (ours: number, peer: number) =>
  `${ours.toFixed(2)} vs ${peer.toFixed(2)} (1/${(peer / ours).toFixed(1)})`

/** Writes per sandbox over its whole cycle: the claim, its refill and its release. */
export const cycleWrites = (system: System): number =>
  writesPerOperation(system.claim.requests) +
  writesPerOperation(system.refill.requests) +
  writesPerOperation(system.release.requests)

const writeBreakdown = (requests: ReadonlyArray<readonly [string, number]>): string =>
  requests
    .filter(([key]) => {
      const [verb = "", resource = ""] = key.split(" ")
      return writeVerbs.has(verb) && resource !== "leases"
    })
    .map(([key, n]) => `${key} ${n.toFixed(2)}`)
    .join(", ") || "–"

const ms = (n: number) => (Number.isNaN(n) ? "–" : n < 10 ? n.toFixed(2) : n.toFixed(1))
const rate = (n: number) => (Number.isNaN(n) ? "–" : n.toFixed(0))
const ratio = (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : "–")
const mib = (m: Memory | undefined) => (m === undefined ? "–" : m.rssMiB.toFixed(0))

const latencyRow = (label: string, c: number, path: PathResult, extra: ReadonlyArray<string>) => {
  const s = summarize(path.load.latencies)
  return `| ${label} | ${c} | ${s.count}/${path.load.attempted} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.p99)} | ${ms(s.max)} | ${rate(perSecond(path.load))} | ${extra.join(" | ")} | ${failureText(path.load)} |`
}

const cpuOf = (cpu: ReadonlyMap<string, number>, name: string) => cpu.get(name) ?? Number.NaN
const totalCpu = (cpu: ReadonlyMap<string, number>) =>
  [...cpu].filter(([name]) => name !== "bench client").reduce((sum, [, n]) => sum + n, 0)

const p = (load: LoadResult, q: "p50" | "p99") => summarize(load.latencies)[q]

/** The issue's targets, each a ratio measured in this run. */
export const verdicts = (results: PeersResults): ReadonlyArray<Verdict> => {
  const out: Array<Verdict> = []
  const levels = results.levels
  if (levels.length > 0) {
    const r = levels.map((l) => ({
      c: l.concurrency,
      r: p(l.ours.claim.load, "p99") / p(l.patch.load, "p99"),
    }))
    out.push({
      pass: r.every((x) => x.r <= 1.5),
      target: "allocation p99 ≤ 1.5× bare PATCH p99 (every level)",
      measured: r.map((x) => `c=${x.c}: ${ratio(x.r)}`).join(", "),
    })
    const high = levels.filter((l) => l.concurrency >= 16)
    if (high.length > 0) {
      const t = high.map((l) => ({
        c: l.concurrency,
        r: perSecond(l.ours.claim.load) / perSecond(l.peer.claim.load),
      }))
      out.push({
        pass: t.every((x) => x.r >= 5),
        target: "claims/s ≥ 5× the peer's at c=16 and c=64",
        measured: t.map((x) => `c=${x.c}: ${ratio(x.r)}`).join(", "),
      })
    }
    const w = levels.map((l) => ({
      c: l.concurrency,
      ours: writesPerOperation(l.ours.claim.requests),
      peer: writesPerOperation(l.peer.claim.requests),
      oursCycle: cycleWrites(l.ours),
      peerCycle: cycleWrites(l.peer),
    }))
    out.push({
      pass: w.every((x) => x.ours * 10 <= x.peer),
      target: "API writes per claim ≤ 1/10 of the peer's (every level)",
      measured: `${w.map((x) => `c=${x.c}: ${writesRatio(x.ours, x.peer)}`).join(", ")}; over a whole cycle (claim + refill + release): ${w.map((x) => `c=${x.c}: ${writesRatio(x.oursCycle, x.peerCycle)}`).join(", ")}`,
    })
    if (high.length > 0) {
      const cpu = high.map((l) => ({ c: l.concurrency, ms: cpuOf(l.ours.claim.cpu, "operator") }))
      out.push({
        pass: cpu.every((x) => x.ms <= 1.0),
        target: "operator CPU per claim ≤ 1.0 ms at c=16 and c=64",
        measured: cpu.map((x) => `c=${x.c}: ${ms(x.ms)} ms`).join(", "),
      })
    }
  }
  if (results.tffi !== undefined) {
    const ours = p(results.tffi.ours, "p50")
    const peer = p(results.tffi.peer, "p50")
    out.push({
      pass: ours < peer,
      target: "time to first instruction p50 below the peer's",
      measured: `${ms(ours)} ms vs ${ms(peer)} ms (${ratio(ours / peer)})`,
    })
  }
  return out
}

const processColumns = (levels: ReadonlyArray<Level>) => {
  const names = new Set<string>()
  for (const l of levels)
    for (const path of [l.patch, l.ours.claim, l.peer.claim])
      for (const name of path.cpu.keys()) names.add(name)
  const preferred = [
    "operator",
    "peer controller",
    "kube-apiserver",
    "etcd",
    "kwok",
    "kube-controller-manager",
    "kube-scheduler",
  ]
  return [
    ...preferred.filter((n) => names.has(n)),
    ...[...names].filter((n) => !preferred.includes(n)).sort(),
  ]
}

export const render = (results: PeersResults): string => {
  const lines: Array<string> = [`## ${results.title}`, "", ...results.header.map((h) => `- ${h}`), ""]
  const levels = results.levels
  // A scale-only run (--levels=none) has no side-by-side rounds to show.
  if (levels.length > 0) {
    lines.push(
      "### Claims: request → a usable sandbox",
      "",
      "| path | c | ok/attempted | p50 ms | p95 ms | p99 ms | max ms | claims/s | API writes per claim | per cycle (claim + refill + release) | failures |",
      "| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --- |",
    )
    for (const l of levels) {
      lines.push(
        latencyRow("bare PATCH (ceiling)", l.concurrency, l.patch, [
          writesPerOperation(l.patch.requests).toFixed(2),
          "–",
        ]),
      )
      lines.push(
        latencyRow("**ours**: POST /v1/sandboxes", l.concurrency, l.ours.claim, [
          writesPerOperation(l.ours.claim.requests).toFixed(2),
          cycleWrites(l.ours).toFixed(2),
        ]),
      )
      lines.push(
        latencyRow("**peer**: SandboxClaim → Ready", l.concurrency, l.peer.claim, [
          writesPerOperation(l.peer.claim.requests).toFixed(2),
          cycleWrites(l.peer).toFixed(2),
        ]),
      )
    }

    lines.push(
      "",
      "| c | ours p99 ÷ PATCH p99 | ours claims/s ÷ peer's | peer p50 ÷ ours | peer writes ÷ ours |",
      "| --: | --: | --: | --: | --: |",
    )
    for (const l of levels)
      lines.push(
        `| ${l.concurrency} | ${ratio(p(l.ours.claim.load, "p99") / p(l.patch.load, "p99"))} | ${ratio(perSecond(l.ours.claim.load) / perSecond(l.peer.claim.load))} | ${ratio(p(l.peer.claim.load, "p50") / p(l.ours.claim.load, "p50"))} | ${ratio(writesPerOperation(l.peer.claim.requests) / writesPerOperation(l.ours.claim.requests))} |`,
      )

    lines.push("", "Targets (each a ratio of this run):", "")
    for (const v of verdicts(results))
      lines.push(`- **${v.pass ? "PASS" : "MISS"}** ${v.target}: ${v.measured}`)

    const columns = processColumns(levels)
    lines.push(
      "",
      "### CPU milliseconds per claim, by process",
      "",
      "From /proc/<pid>/stat over the rounds (10 ms ticks). `all` sums every process but the benchmark client.",
      "",
      `| path | c | ${columns.join(" | ")} | all |`,
      `| --- | --: | ${columns.map(() => "--:").join(" | ")} | --: |`,
    )
    const cpuRow = (label: string, c: number | string, cpu: ReadonlyMap<string, number>) =>
      `| ${label} | ${c} | ${columns.map((n) => ms(cpuOf(cpu, n))).join(" | ")} | ${ms(totalCpu(cpu))} |`
    for (const l of levels) {
      lines.push(cpuRow("bare PATCH", l.concurrency, l.patch.cpu))
      lines.push(cpuRow("ours: claim", l.concurrency, l.ours.claim.cpu))
      lines.push(cpuRow("peer: claim", l.concurrency, l.peer.claim.cpu))
    }

    lines.push(
      "",
      "### Release and refill",
      "",
      "Release: ours `DELETE /v1/sandboxes/:id` until its answer; the peer's `DELETE` of the claim until a watch sees it gone, at the level's c. Refill: from the end of a claim round (the claimed sandboxes still held) until the pool's own status reports every warm member Ready again; CPU and writes per sandbox refilled.",
      "",
      "| system | c | release p50 ms | release p99 ms | releases/s | writes per release | refill s (per round) | writes per refill | CPU ms per refill: own controller / apiserver / etcd / all | failures |",
      "| --- | --: | --: | --: | --: | --: | --- | --: | --- | --- |",
    )
    for (const l of levels)
      for (const [name, system, own] of [
        ["ours", l.ours, "operator"],
        ["peer", l.peer, "peer controller"],
      ] as const) {
        const r = summarize(system.release.load.latencies)
        const refill = system.refill
        lines.push(
          `| ${name} | ${l.concurrency} | ${ms(r.p50)} | ${ms(r.p99)} | ${rate(perSecond(system.release.load))} | ${writesPerOperation(system.release.requests).toFixed(2)} | ${refill.seconds.map((s) => s.toFixed(1)).join(", ") || "–"} | ${writesPerOperation(refill.requests).toFixed(2)} | ${[cpuOf(refill.cpu, own), cpuOf(refill.cpu, "kube-apiserver"), cpuOf(refill.cpu, "etcd"), totalCpu(refill.cpu)].map(ms).join(" / ")} | ${[failureText(system.release.load), ...refill.failures].join("; ")} |`,
        )
      }

    lines.push(
      "",
      "API writes per operation, by request (all clients; Lease renewals left out):",
      "",
      "| path | c | writes |",
      "| --- | --: | --- |",
    )
    for (const l of levels) {
      lines.push(`| ours: claim | ${l.concurrency} | ${writeBreakdown(l.ours.claim.requests)} |`)
      lines.push(`| peer: claim | ${l.concurrency} | ${writeBreakdown(l.peer.claim.requests)} |`)
      lines.push(`| ours: release | ${l.concurrency} | ${writeBreakdown(l.ours.release.requests)} |`)
      lines.push(`| peer: release | ${l.concurrency} | ${writeBreakdown(l.peer.release.requests)} |`)
      lines.push(
        `| ours: refill (per sandbox) | ${l.concurrency} | ${writeBreakdown(l.ours.refill.requests)} |`,
      )
      lines.push(
        `| peer: refill (per sandbox) | ${l.concurrency} | ${writeBreakdown(l.peer.refill.requests)} |`,
      )
    }
  } else {
    for (const v of verdicts(results))
      lines.push(`- **${v.pass ? "PASS" : "MISS"}** ${v.target}: ${v.measured}`)
  }

  if (results.tffi !== undefined) {
    lines.push(
      "",
      "### Time to first instruction (request → the first command's output), c=1",
      "",
      "| system | what | ok/attempted | p50 ms | p95 ms | p99 ms | max ms | failures |",
      "| --- | --- | --: | --: | --: | --: | --: | --- |",
    )
    for (const [name, what, load] of [
      ["ours", "E2B SDK `Sandbox.create` + `commands.run('echo ok')`", results.tffi.ours],
      ["peer", "SandboxClaim → Ready (watch), exec `echo ok` into its Pod", results.tffi.peer],
    ] as const) {
      const s = summarize(load.latencies)
      lines.push(
        `| ${name} | ${what} | ${s.count}/${load.attempted} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.p99)} | ${ms(s.max)} | ${failureText(load)} |`,
      )
    }
  }

  if (results.scale.length > 0 || results.scaleError !== undefined) {
    lines.push(
      "",
      "### Scale: the operator with more warm Pods watched",
      "",
      "| warm Pods | fill s | claim p50 ms (c=16) | p95 ms | p99 ms | claims/s | operator CPU ms per claim | RSS filled MiB | restart → ready ms | restart → first claim ms | RSS restarted MiB |",
      "| --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |",
    )
    for (const point of results.scale) {
      const s = summarize(point.claims.latencies)
      lines.push(
        `| ${point.pods} | ${point.fillSeconds.toFixed(1)} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.p99)} | ${rate(perSecond(point.claims))} | ${ms(point.operatorCpuPerClaim)} | ${mib(point.rssFilled)} | ${point.restartReadyMillis.toFixed(0)} | ${point.restartFirstClaimMillis.toFixed(0)} | ${mib(point.rssRestarted)} |`,
      )
    }
    if (results.scaleError !== undefined) lines.push("", `Scale curve stopped: ${results.scaleError}`)
  }
  if (results.footer.length > 0) lines.push("", ...results.footer.map((f) => `- ${f}`))
  return `${lines.join("\n")}\n`
}
