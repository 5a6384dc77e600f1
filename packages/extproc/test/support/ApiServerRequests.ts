/**
 * Requests the API server has served, from its own /metrics (`apiserver_request_total`): how a
 * test counts the API calls a component made without putting anything between them.
 */
import * as https from "node:https"
import { KubeConfig } from "@agent-sandbox/kube"
import { Effect } from "effect"

const metrics = Effect.flatMap(KubeConfig.KubeConfig, (config) =>
  Effect.tryPromise(async () => {
    const server = config.getCurrentCluster()?.server ?? ""
    const options: https.RequestOptions = {}
    await config.applyToHTTPSOptions(options)
    return await new Promise<string>((resolve, reject) => {
      https
        .get(`${server}/metrics`, options, (res) => {
          let text = ""
          res.setEncoding("utf8")
          res.on("data", (chunk: string) => {
            text += chunk
          })
          res.on("end", () =>
            res.statusCode === 200 ? resolve(text) : reject(new Error(`/metrics: HTTP ${res.statusCode}`)),
          )
        })
        .on("error", reject)
    })
  }),
)

/** The sum of `apiserver_request_total` over every series with these labels (any code, scope). */
export const count = (labels: {
  readonly verb: string
  readonly resource: string
  readonly group?: string
}) =>
  Effect.map(metrics, (text) => {
    const wanted = [`verb="${labels.verb}"`, `resource="${labels.resource}"`, `group="${labels.group ?? ""}"`]
    return text
      .split("\n")
      .filter((line) => line.startsWith("apiserver_request_total{") && wanted.every((w) => line.includes(w)))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0)
  })
