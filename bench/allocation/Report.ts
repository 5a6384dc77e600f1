import { failureText, type LoadResult, perSecond } from "../support/LoadLoop.ts"
import { summarize } from "../support/Stats.ts"

/** One concurrency level: the ceiling and the allocation at the same c, on the same cluster. */
export interface Level {
  readonly concurrency: number
  readonly patch: LoadResult
  readonly patchConflicts: number
  readonly allocation: LoadResult
  /** GET /v1/pools: the operator's HTTP, auth and encoding without any Kubernetes call. */
  readonly floor: LoadResult
  /** The fewest idle Pods the operator saw before any of the rounds: at least `count` means none waited. */
  readonly idleBefore: number
  /** Pool Pods created while the allocations ran (the reconciler refilling the warm pool). */
  readonly refillCreates: number
  /** CPU ms per successful operation, by process. */
  readonly patchCpu: ReadonlyMap<string, number>
  readonly allocationCpu: ReadonlyMap<string, number>
  /** API requests per successful operation by "VERB resource", as the API server counted them. */
  readonly patchRequests: ReadonlyArray<readonly [string, number]>
  readonly allocationRequests: ReadonlyArray<readonly [string, number]>
}

export interface ColdRound {
  readonly concurrency: number
  readonly result: LoadResult
}

export interface BenchResults {
  readonly title: string
  readonly header: ReadonlyArray<string>
  /** Printed under the tables. */
  readonly footer: ReadonlyArray<string>
  /** Operations per round, and rounds per level. */
  readonly count: number
  readonly rounds: number
  readonly levels: ReadonlyArray<Level>
  readonly release: LoadResult
  readonly releaseConcurrency: number
  readonly cold: ReadonlyArray<ColdRound>
}

export interface Verdict {
  readonly pass: boolean
  readonly target: string
  readonly measured: string
}

const ms = (n: number) => (Number.isNaN(n) ? "–" : n < 10 ? n.toFixed(2) : n.toFixed(1))
const rate = (n: number) => (Number.isNaN(n) ? "–" : n.toFixed(0))
const ratio = (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : "–")

const row = (path: string, c: number, result: LoadResult, note = "") => {
  const s = summarize(result.latencies)
  return `| ${path} | ${c} | ${s.count}/${result.attempted} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.p99)} | ${ms(s.max)} | ${rate(perSecond(result))} | ${failureText(result)}${note === "" ? "" : `; ${note}`} |`
}

const p50 = (result: LoadResult) => summarize(result.latencies).p50

/** The issue's targets, judged at every level where they apply; the worst level decides. */
export const verdicts = (results: BenchResults): ReadonlyArray<Verdict> => {
  const top = results.levels.find((l) => l.concurrency === 64) ?? results.levels.at(-1)
  const out: Array<Verdict> = []
  if (top !== undefined) {
    const p99 = summarize(top.allocation.latencies).p99
    const complete =
      top.allocation.latencies.length === top.allocation.attempted &&
      top.allocation.attempted === results.count * results.rounds
    out.push({
      pass: p99 < 100 && complete,
      target: `allocation p99 < 100 ms at c=${top.concurrency}`,
      measured: `${ms(p99)} ms${complete ? "" : ` (and ${failureText(top.allocation)})`}`,
    })
  }
  const latencyRatios = results.levels.map((l) => ({ c: l.concurrency, r: p50(l.allocation) / p50(l.patch) }))
  const worstLatency = latencyRatios.reduce((a, b) => (b.r > a.r ? b : a), {
    c: 0,
    r: Number.NEGATIVE_INFINITY,
  })
  out.push({
    pass: latencyRatios.every((x) => x.r <= 1.5),
    target: "allocation p50 ≤ 1.5× bare PATCH p50 (every level)",
    measured: `${latencyRatios.map((x) => `c=${x.c}: ${ratio(x.r)}`).join(", ")} (worst c=${worstLatency.c})`,
  })
  const throughputRatios = results.levels.map((l) => ({
    c: l.concurrency,
    r: perSecond(l.allocation) / perSecond(l.patch),
  }))
  const worstThroughput = throughputRatios.reduce((a, b) => (b.r < a.r ? b : a), {
    c: 0,
    r: Number.POSITIVE_INFINITY,
  })
  out.push({
    pass: throughputRatios.every((x) => x.r >= 0.7),
    target: "allocation throughput ≥ 0.7× bare PATCH throughput (every level)",
    measured: `${throughputRatios.map((x) => `c=${x.c}: ${ratio(x.r)}`).join(", ")} (worst c=${worstThroughput.c})`,
  })
  return out
}

const cpuColumns = (levels: ReadonlyArray<Level>) => {
  const names = new Set<string>()
  for (const l of levels)
    for (const name of [...l.patchCpu.keys(), ...l.allocationCpu.keys()]) names.add(name)
  const preferred = [
    "kube-apiserver",
    "etcd",
    "operator",
    "bench client",
    "kwok",
    "kube-scheduler",
    "kube-controller-manager",
  ]
  return [
    ...preferred.filter((n) => names.has(n)),
    ...[...names].filter((n) => !preferred.includes(n)).sort(),
  ]
}

/** The whole report as Markdown. */
export const render = (results: BenchResults): string => {
  const lines: Array<string> = [`## ${results.title}`, "", ...results.header.map((h) => `- ${h}`), ""]
  lines.push(
    "| path | c | ok/attempted | p50 ms | p95 ms | p99 ms | max ms | ops/s | failures / notes |",
    "| --- | --: | --: | --: | --: | --: | --: | --: | --- |",
  )
  for (const level of results.levels) {
    lines.push(row("operator floor: GET /v1/pools (no write)", level.concurrency, level.floor))
    lines.push(
      row(
        "bare PATCH (ceiling)",
        level.concurrency,
        level.patch,
        level.patchConflicts === 0 ? "" : `${level.patchConflicts} 409s retried`,
      ),
    )
    lines.push(
      row(
        "allocation POST /v1/sandboxes",
        level.concurrency,
        level.allocation,
        `operator idle before: ${level.idleBefore}${level.idleBefore >= results.count ? " (all served warm)" : " (SOME MAY HAVE WAITED)"}; ${level.refillCreates} refill Pods created meanwhile`,
      ),
    )
  }
  lines.push(row("release DELETE /v1/sandboxes/:id", results.releaseConcurrency, results.release))
  for (const round of results.cold)
    lines.push(row("cold: create Pod → Running+Ready", round.concurrency, round.result))

  lines.push("", "| c | allocation p50 ÷ PATCH p50 | allocation ops/s ÷ PATCH ops/s |", "| --: | --: | --: |")
  for (const level of results.levels) {
    lines.push(
      `| ${level.concurrency} | ${ratio(p50(level.allocation) / p50(level.patch))} | ${ratio(perSecond(level.allocation) / perSecond(level.patch))} |`,
    )
  }

  lines.push("", "Targets:", "")
  for (const v of verdicts(results))
    lines.push(`- **${v.pass ? "PASS" : "MISS"}** ${v.target}: ${v.measured}`)

  const columns = cpuColumns(results.levels)
  lines.push(
    "",
    "CPU milliseconds per successful operation, by process (from /proc/<pid>/stat; the bench client runs the load loops):",
    "",
    `| path | c | ${columns.join(" | ")} |`,
    `| --- | --: | ${columns.map(() => "--:").join(" | ")} |`,
  )
  const cpuRow = (path: string, c: number, cpu: ReadonlyMap<string, number>) =>
    `| ${path} | ${c} | ${columns.map((n) => (cpu.has(n) ? ms(cpu.get(n)!) : "–")).join(" | ")} |`
  for (const level of results.levels) {
    lines.push(cpuRow("bare PATCH", level.concurrency, level.patchCpu))
    lines.push(cpuRow("allocation", level.concurrency, level.allocationCpu))
  }
  lines.push(
    "",
    "API requests per successful operation, all clients together (kube-apiserver's apiserver_request_total, watches excluded):",
    "",
    "| path | c | requests |",
    "| --- | --: | --- |",
  )
  const requests = (list: ReadonlyArray<readonly [string, number]>) =>
    list.map(([key, n]) => `${key} ${n.toFixed(2)}`).join(", ") || "–"
  for (const level of results.levels) {
    lines.push(`| bare PATCH | ${level.concurrency} | ${requests(level.patchRequests)} |`)
    lines.push(`| allocation | ${level.concurrency} | ${requests(level.allocationRequests)} |`)
  }
  if (results.footer.length > 0) lines.push("", ...results.footer.map((f) => `- ${f}`))
  return `${lines.join("\n")}\n`
}
