import * as fs from "node:fs"
import * as http from "node:http"
import * as https from "node:https"
import type * as k8s from "@kubernetes/client-node"
import { Duration, Effect, Ref, Schedule } from "effect"
import { ControlPlaneError } from "./ControlPlaneError.ts"
import type { KeyPair } from "./Pki.ts"

/** A readiness probe: `true` when ready, otherwise why not (shown if it never gets ready). */
export type Probe = Effect.Effect<true | string>

/** Polls a probe every 100 ms until it reports ready; fails naming the component after `timeout`. */
export const waitUntilReady = (
  component: string,
  probe: Probe,
  timeout: Duration.DurationInput,
): Effect.Effect<void, ControlPlaneError> =>
  Effect.gen(function* () {
    const lastProblem = yield* Ref.make("not probed yet")
    yield* probe.pipe(
      Effect.tap((result) => (result === true ? Effect.void : Ref.set(lastProblem, result))),
      Effect.repeat({ until: (result) => result === true, schedule: Schedule.spaced(Duration.millis(100)) }),
      Effect.timeoutFail({
        duration: timeout,
        onTimeout: () => new ControlPlaneError({ component, reason: "NotReady", message: "" }),
      }),
      Effect.catchTag("ControlPlaneError", () =>
        Effect.flatMap(Ref.get(lastProblem), (problem) =>
          Effect.fail(
            new ControlPlaneError({
              component,
              reason: "NotReady",
              message: `${component} not ready after ${Duration.format(timeout)}: ${problem}`,
            }),
          ),
        ),
      ),
    )
  })

interface Tls {
  readonly ca?: string
  readonly client?: KeyPair
  /** The controllers serve /healthz with a self-signed certificate of their own. */
  readonly insecure?: boolean
}

const get = (url: string, tls: Tls): Effect.Effect<{ status: number; body: string }, string> =>
  Effect.async((resume) => {
    const onResponse = (response: http.IncomingMessage) => {
      let body = ""
      response.setEncoding("utf8").on("data", (chunk: string) => {
        body += chunk
      })
      response.on("end", () => resume(Effect.succeed({ status: response.statusCode ?? 0, body })))
    }
    const request = url.startsWith("https:")
      ? https.get(
          url,
          {
            rejectUnauthorized: tls.insecure !== true,
            ...(tls.ca ? { ca: fs.readFileSync(tls.ca) } : {}),
            ...(tls.client
              ? { cert: fs.readFileSync(tls.client.cert), key: fs.readFileSync(tls.client.key) }
              : {}),
            timeout: 5_000,
          },
          onResponse,
        )
      : http.get(url, { timeout: 5_000 }, onResponse)
    request.on("timeout", () => request.destroy(new Error("timed out")))
    request.on("error", (cause) => resume(Effect.fail(`GET ${url}: ${cause.message}`)))
    return Effect.sync(() => request.destroy())
  })

/** An HTTP(S) endpoint answering 200 (and, optionally, a body containing `expect`). */
export const httpProbe = (url: string, tls: Tls = {}, expect?: string): Probe =>
  get(url, tls).pipe(
    Effect.map(({ status, body }) =>
      status === 200 && (expect === undefined || body.includes(expect))
        ? (true as const)
        : `GET ${url}: ${status} ${body.slice(0, 300)}`,
    ),
    Effect.catchAll((problem) => Effect.succeed(problem)),
  )

const isReady = (node: k8s.V1Node): boolean =>
  node.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") ??
  false

const blockingTaints = (node: k8s.V1Node): ReadonlyArray<string> =>
  (node.spec?.taints ?? []).filter((taint) => taint.effect !== "PreferNoSchedule").map((taint) => taint.key)

/** Why these Nodes cannot take Pods yet: not Ready, or still tainted by the node lifecycle controller. */
export const nodesProblem = (
  expected: ReadonlyArray<string>,
  nodes: ReadonlyArray<k8s.V1Node>,
): true | string => {
  const problems = expected.flatMap((name) => {
    const node = nodes.find((candidate) => candidate.metadata?.name === name)
    if (node === undefined) return [`${name} missing`]
    if (!isReady(node)) return [`${name} not Ready`]
    const taints = blockingTaints(node)
    return taints.length > 0 ? [`${name} tainted ${taints.join(",")}`] : []
  })
  return problems.length === 0 ? true : problems.join("; ")
}

/** The fake Nodes are Ready and schedulable. */
export const nodesProbe = (core: k8s.CoreV1Api, expected: ReadonlyArray<string>): Probe =>
  Effect.tryPromise(() => core.listNode()).pipe(
    Effect.map((list) => nodesProblem(expected, list.items)),
    Effect.catchAll((cause) => Effect.succeed(`list nodes: ${cause.error}`)),
  )

/** A namespace's default ServiceAccount exists (Pods without one are rejected by admission). */
export const defaultServiceAccountProbe = (core: k8s.CoreV1Api, namespace: string): Probe =>
  Effect.tryPromise(() => core.readNamespacedServiceAccount({ name: "default", namespace })).pipe(
    Effect.as(true as const),
    Effect.catchAll(() => Effect.succeed(`no ServiceAccount ${namespace}/default yet`)),
  )

/** A helper process signals readiness by creating a file. */
export const fileProbe = (file: string): Probe =>
  Effect.sync(() => (fs.existsSync(file) ? (true as const) : `${file} not written yet`))
