/**
 * The operator's PodStateScrubber through the node agents: the agent of the Pod's node (found by
 * its Lease, as the data plane finds it) is asked to clear the Pod's own state, with a scrub grant
 * signed under the key the data plane signs envd grants with (envd's PodScrubGrant). Only a 204
 * from that agent counts as clean; anything else (no agent, a refusal, an error, no answer within
 * the request timeout) fails, and the operator deletes the Pod.
 */
import { request } from "node:http"
import { PodScrubGrant } from "@agent-sandbox/envd"
import { PodStateScrubber } from "@agent-sandbox/operator"
import { Clock, Effect, Layer } from "effect"
import { NodeAgentGrantKey } from "./NodeAgentGrantKey.ts"
import { NodeAgents } from "./NodeAgents.ts"

export interface AgentPodScrubberOptions {
  /** How long a scrub grant stays valid, and how long one request to the agent may take. */
  readonly requestMillis: number
}

/** The runtime's id without its scheme (`containerd://abc` → `abc`), as the agent knows it. */
export const runtimeIdOf = (containerId: string): string => {
  const scheme = containerId.indexOf("://")
  return scheme === -1 ? containerId : containerId.slice(scheme + 3)
}

const post = (url: string, grant: string, timeoutMillis: number) =>
  Effect.async<{ readonly status: number; readonly body: string }, string>((resume) => {
    const req = request(
      url,
      { method: "POST", headers: { [PodScrubGrant.headerName]: grant }, timeout: timeoutMillis },
      (res) => {
        let body = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => {
          if (body.length < 4096) body += chunk
        })
        res.on("end", () => resume(Effect.succeed({ status: res.statusCode ?? 0, body })))
        res.on("error", (error) => resume(Effect.fail(error.message)))
      },
    )
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMillis} ms`)))
    req.on("error", (error) => resume(Effect.fail(error.message)))
    req.end()
    return Effect.sync(() => req.destroy())
  })

export const layer = (
  options: AgentPodScrubberOptions,
): Layer.Layer<PodStateScrubber.PodStateScrubber, never, NodeAgents | NodeAgentGrantKey> =>
  Layer.effect(
    PodStateScrubber.PodStateScrubber,
    Effect.gen(function* () {
      const agents = yield* NodeAgents
      const { key } = yield* NodeAgentGrantKey
      const fail = (reason: PodStateScrubber.PodStateScrubError["reason"], message: string) =>
        new PodStateScrubber.PodStateScrubError({ reason, message })
      return {
        serves: (node) => Effect.map(agents.addressOf(node), (address) => address !== undefined),
        scrub: (target) =>
          Effect.gen(function* () {
            const address = yield* agents.addressOf(target.node)
            if (address === undefined)
              return yield* fail("NoAgent", `no node agent serves node ${target.node}`)
            const now = yield* Clock.currentTimeMillis
            const grant = PodScrubGrant.sign(
              key,
              new PodScrubGrant.ScrubGrant({
                purpose: "scrub-pod-state",
                namespace: target.namespace,
                pod: target.pod,
                podUid: target.podUid,
                container: target.container,
                containerId: runtimeIdOf(target.containerId),
                expiresAt: now + options.requestMillis,
              }),
            )
            const answer = yield* post(`${address}${PodScrubGrant.path}`, grant, options.requestMillis).pipe(
              Effect.mapError((message) => fail("Unreachable", `node agent ${address}: ${message}`)),
            )
            if (answer.status === 204) return
            return yield* fail(
              answer.status === 403 || answer.status === 409 ? "Refused" : "Failed",
              `node agent ${address} answered ${answer.status}: ${answer.body}`,
            )
          }),
      }
    }),
  )
