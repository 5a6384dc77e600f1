import type { KubeConfig } from "@agent-sandbox/kube"
import { Effect } from "effect"
import { metricsText, parseRequestCounts, type RequestCounts } from "../support/ApiServerMetrics.ts"

/**
 * The API server's count of exec sessions (any request to pods/exec, which parseRequestCounts
 * leaves out with the other long-lived requests) beside the ordinary requests: how many execs and
 * API calls one data-plane operation costs.
 */
export interface ApiSample {
  readonly execs: number
  readonly requests: RequestCounts
}

const execSample = /^apiserver_request_total\{([^}]*)\} ([0-9.e+]+)$/

export const parseExecCount = (text: string): number => {
  let execs = 0
  for (const line of text.split("\n")) {
    const match = execSample.exec(line)
    if (match === null) continue
    const labels = match[1]!
    if (/(?:^|,)resource="pods"/.test(labels) && /(?:^|,)subresource="exec"/.test(labels))
      execs += Number(match[2])
  }
  return execs
}

export const sample: Effect.Effect<ApiSample, unknown, KubeConfig.KubeConfig> = Effect.map(
  metricsText,
  (text) => ({
    execs: parseExecCount(text),
    requests: parseRequestCounts(text),
  }),
)

export interface ApiPerOperation {
  readonly execs: number
  /** Other requests per operation, "VERB resource" → count, the most frequent first. */
  readonly requests: ReadonlyArray<readonly [string, number]>
}

export const perOperation = (before: ApiSample, after: ApiSample, operations: number): ApiPerOperation => {
  const n = Math.max(1, operations)
  return {
    execs: (after.execs - before.execs) / n,
    requests: [...after.requests]
      .map(([key, count]) => [key, (count - (before.requests.get(key) ?? 0)) / n] as const)
      .filter(([key, perOp]) => perOp >= 0.01 && !key.endsWith("pods/exec"))
      .sort((a, b) => b[1] - a[1]),
  }
}
