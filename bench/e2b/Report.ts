import { failureText, type LoadResult, perSecond } from "../support/LoadLoop.ts"
import { summarize } from "../support/Stats.ts"
import type { ApiPerOperation } from "./ApiRequests.ts"

/** What a row timed; the breakdown and the verdict look rows up by kind. */
export type RowKind =
  | "create"
  | "kill"
  | "health"
  | "sdk-run"
  | "exec-true"
  | "exec-sdk-command"
  | "exec-envd-launch"
  | "write"
  | "read"

export interface Row {
  readonly kind: RowKind
  readonly label: string
  readonly concurrency: number
  readonly result: LoadResult
  /** Payload per operation (file rows): the rate is then MiB/s. */
  readonly bytes?: number
  /** CPU ms per successful operation, by process. */
  readonly cpu: ReadonlyMap<string, number>
  /** Exec sessions and other API requests per successful operation, as the API server counted them. */
  readonly api?: ApiPerOperation
  readonly note?: string
}

export interface E2bBenchResults {
  readonly title: string
  readonly header: ReadonlyArray<string>
  readonly footer: ReadonlyArray<string>
  readonly rows: ReadonlyArray<Row>
  /** The issue's aim: p50 of commands.run('true') below this, in ms. */
  readonly aimMillis: number
}

export interface Verdict {
  readonly pass: boolean
  readonly text: string
}

const mebibyte = 1024 * 1024

const ms = (n: number) => (Number.isNaN(n) ? "–" : n < 10 ? n.toFixed(2) : n.toFixed(1))
const cpuMs = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? "–" : n.toFixed(1))
const p50 = (result: LoadResult) => summarize(result.latencies).p50

const sizeText = (bytes: number) =>
  bytes >= mebibyte ? `${(bytes / mebibyte).toFixed(0)} MiB` : `${(bytes / 1024).toFixed(0)} KiB`

const rateOf = (row: Row) => {
  const opsPerSecond = perSecond(row.result)
  if (Number.isNaN(opsPerSecond)) return "–"
  if (row.bytes === undefined || row.bytes < mebibyte) return `${opsPerSecond.toFixed(0)} ops/s`
  return `${((opsPerSecond * row.bytes) / mebibyte).toFixed(1)} MiB/s`
}

const notesOf = (row: Row) => {
  const parts = [failureText(row.result)]
  if (row.bytes !== undefined && row.bytes >= mebibyte) {
    const median = p50(row.result)
    if (!Number.isNaN(median))
      parts.push(`${((row.bytes / mebibyte / median) * 1000).toFixed(1)} MiB/s at p50`)
  }
  if (row.note !== undefined) parts.push(row.note)
  return parts.join("; ")
}

const tableRow = (row: Row) => {
  const s = summarize(row.result.latencies)
  return `| ${row.label}${row.bytes === undefined ? "" : ` ${sizeText(row.bytes)}`} | ${row.concurrency} | ${s.count}/${row.result.attempted} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.p99)} | ${ms(s.max)} | ${rateOf(row)} | ${notesOf(row)} |`
}

const find = (rows: ReadonlyArray<Row>, kind: RowKind, concurrency = 1) =>
  rows.find((r) => r.kind === kind && r.concurrency === concurrency)

/** The aim is judged on one sandbox, one command at a time; other concurrencies are shown beside it. */
export const verdict = (results: E2bBenchResults): Verdict => {
  const sequential = find(results.rows, "sdk-run")
  const median = sequential === undefined ? Number.NaN : p50(sequential.result)
  const pass = median < results.aimMillis
  const others = results.rows
    .filter((r) => r.kind === "sdk-run" && r.concurrency !== 1)
    .map((r) => `at c=${r.concurrency} across ${r.concurrency} sandboxes p50 ${ms(p50(r.result))} ms`)
  return {
    pass,
    text: `**${pass ? "PASS" : "MISS"}**: p50 of \`commands.run('true')\` under ${results.aimMillis} ms — measured ${ms(median)} ms (one sandbox, sequential)${others.length === 0 ? "" : `; for information, ${others.join(", ")}`}.`,
  }
}

/** Differences of medians, c=1: approximate, but they name the step that costs the time. */
export const breakdown = (rows: ReadonlyArray<Row>): ReadonlyArray<string> => {
  const median = (kind: RowKind) => {
    const row = find(rows, kind)
    return row === undefined ? Number.NaN : p50(row.result)
  }
  const execTrue = median("exec-true")
  const execSdk = median("exec-sdk-command")
  const execLaunch = median("exec-envd-launch")
  const sdkRun = median("sdk-run")
  const health = median("health")
  return [
    `- ${ms(execTrue)} ms — the Kubernetes exec round trip with nothing to run: WebSocket upgrade to the API server, its proxy to KWOK, KWOK starting \`true\` as a local process, the status frame back (bare \`Exec.execCollect(['true'])\` from this process).`,
    `- ${ms(execSdk - execTrue)} ms — running the SDK's command \`/bin/bash -l -c true\` instead of \`true\` (a login shell reads the profile).`,
    `- ${ms(execLaunch - execSdk)} ms — envd's launch wrapper around it (\`/bin/sh -c\` script: cd home, print the pid, exec).`,
    `- ${ms(sdkRun - execLaunch)} ms — the rest: the SDK, its Connect stream over HTTP/1.1, the E2B server's routing and token check, envd's process table and event stream (of which ${ms(health)} ms is the envd HTTP path alone: \`GET /health\`, no exec).`,
  ]
}

const cpuTable = (rows: ReadonlyArray<Row>): ReadonlyArray<string> => {
  const names = [...new Set(rows.flatMap((r) => [...r.cpu.keys()]))].sort((a, b) =>
    a === "bench client" ? 1 : b === "bench client" ? -1 : a.localeCompare(b),
  )
  const requests = (api: ApiPerOperation | undefined) =>
    api === undefined
      ? "–"
      : api.requests.length === 0
        ? "none"
        : api.requests.map(([key, n]) => `${key} ${n.toFixed(2)}`).join(", ")
  return [
    `| operation | c | ${names.join(" | ")} | execs/op | other API requests/op |`,
    `| --- | ---: | ${names.map(() => "---:").join(" | ")} | ---: | --- |`,
    ...rows.map(
      (r) =>
        `| ${r.label}${r.bytes === undefined ? "" : ` ${sizeText(r.bytes)}`} | ${r.concurrency} | ${names.map((n) => cpuMs(r.cpu.get(n))).join(" | ")} | ${r.api === undefined ? "–" : r.api.execs.toFixed(2)} | ${requests(r.api)} |`,
    ),
  ]
}

export const render = (results: E2bBenchResults): string => {
  const v = verdict(results)
  return [
    `# ${results.title}`,
    "",
    ...results.header.map((line) => `- ${line}`),
    "",
    "## Latency and throughput",
    "",
    "| operation | c | ok/attempted | p50 ms | p95 ms | p99 ms | max ms | rate | failures / notes |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...results.rows.map(tableRow),
    "",
    "## The aim",
    "",
    v.text,
    "",
    "## Where a `commands.run('true')` spends its time (p50, c=1)",
    "",
    ...breakdown(results.rows),
    "",
    "## CPU milliseconds and API requests per operation",
    "",
    "CPU by process from /proc/<pid>/stat (10 ms ticks: single digits are rough); commands KWOK runs are its children and are not counted in its column. Execs and requests from the API server's apiserver_request_total (every client: the operator, this process, KWOK, the controllers).",
    "",
    ...cpuTable(results.rows),
    "",
    ...results.footer.map((line) => `- ${line}`),
    "",
  ].join("\n")
}
