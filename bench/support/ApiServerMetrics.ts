import * as https from "node:https"
import { KubeConfig } from "@agent-sandbox/kube"
import { Effect } from "effect"

/**
 * The API server's own count of the requests it served (apiserver_request_total from /metrics), by
 * "VERB resource[/subresource]". Taken before and after a step, it says which requests every
 * client (operator, scheduler, KWOK, controllers, this benchmark) made per operation.
 */
export type RequestCounts = ReadonlyMap<string, number>

const sample = /^apiserver_request_total\{([^}]*)\} ([0-9.e+]+)$/

const label = (labels: string, name: string) => new RegExp(`(?:^|,)${name}="([^"]*)"`).exec(labels)?.[1] ?? ""

export const parseRequestCounts = (text: string): RequestCounts => {
  const counts = new Map<string, number>()
  for (const line of text.split("\n")) {
    const match = sample.exec(line)
    if (match === null) continue
    const labels = match[1]!
    const verb = label(labels, "verb")
    const resource = label(labels, "resource")
    // Watches are long-lived, not per operation; non-resource requests (this /metrics GET) have no resource.
    if (verb === "WATCH" || verb === "CONNECT" || resource === "") continue
    const subresource = label(labels, "subresource")
    const key = `${verb} ${resource}${subresource === "" ? "" : `/${subresource}`}`
    counts.set(key, (counts.get(key) ?? 0) + Number(match[2]))
  }
  return counts
}

/** GET /metrics with the admin kubeconfig's credentials (client-node applies certificates and tokens). */
export const metricsText: Effect.Effect<string, unknown, KubeConfig.KubeConfig> = Effect.flatMap(
  KubeConfig.KubeConfig,
  (config) =>
    Effect.tryPromise(async () => {
      const server = new URL(config.getCurrentCluster()?.server ?? "")
      const options: https.RequestOptions = {
        hostname: server.hostname,
        port: server.port,
        path: "/metrics",
        method: "GET",
      }
      await config.applyToHTTPSOptions(options)
      const text = await new Promise<string>((resolve, reject) => {
        const request = https.request(options, (response) => {
          let body = ""
          response.setEncoding("utf8")
          response.on("data", (chunk: string) => {
            body += chunk
          })
          response.on("end", () =>
            response.statusCode === 200
              ? resolve(body)
              : reject(new Error(`/metrics: ${response.statusCode}`)),
          )
        })
        request.on("error", reject)
        request.end()
      })
      return text
    }),
)

export const requestCounts: Effect.Effect<RequestCounts, unknown, KubeConfig.KubeConfig> = Effect.map(
  metricsText,
  parseRequestCounts,
)

/** Requests per operation between two counts, the most frequent first. */
export const requestsBetween = (
  before: RequestCounts,
  after: RequestCounts,
  operations: number,
): ReadonlyArray<readonly [string, number]> =>
  [...after]
    .map(([key, n]) => [key, (n - (before.get(key) ?? 0)) / Math.max(1, operations)] as const)
    .filter(([, perOp]) => perOp >= 0.01)
    .sort((a, b) => b[1] - a[1])
