/**
 * `POST /agent/scrub-pod-state`: the operator's side asks this node's agent to clear a recycled
 * Pod's own state (PodStateScrub), with a grant signed under the key envd grants use
 * (envd's PodScrubGrant). The agent acts only on the container the grant names, by Pod uid and
 * runtime id, and answers 204 once the Pod is clean: 403 for a refused grant (also one it accepted
 * before: AcceptedGrants), 429 while it remembers as many grants as it may, 409 when that
 * container is not (or no longer) the one running, 500 when the scrub failed. The caller deletes
 * the Pod on anything but 204.
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import { PodScrubGrant } from "@agent-sandbox/envd"
import { Clock, Effect, Either } from "effect"
import * as AcceptedGrants from "./AcceptedGrants.ts"
import * as PodStateScrub from "./PodStateScrub.ts"
import type { SandboxContainersShape } from "./SandboxContainers.ts"

export const path = PodScrubGrant.path

const answer = (
  res: ServerResponse,
  status: number,
  message?: string,
  headers: Readonly<Record<string, string>> = {},
) =>
  Effect.sync(() => {
    if (message === undefined) res.writeHead(status, headers).end()
    else res.writeHead(status, { ...headers, "content-type": "text/plain" }).end(message)
  })

/** Handles one request (method, grant, container, scrub); never fails: every outcome is an answer. */
export const handle = (
  key: Uint8Array,
  accepted: AcceptedGrants.AcceptedGrants,
  containers: SandboxContainersShape,
  req: IncomingMessage,
  res: ServerResponse,
  tools: PodStateScrub.ScrubTools = PodStateScrub.defaultTools,
): Effect.Effect<void> =>
  Effect.gen(function* () {
    req.resume()
    if (req.method !== "POST") return yield* answer(res, 405, "POST only")
    const header = req.headers[PodScrubGrant.headerName]
    const token = Array.isArray(header) ? header[0] : header
    const now = yield* Clock.currentTimeMillis
    const verified = PodScrubGrant.verify(key, token, now)
    if (Either.isLeft(verified)) return yield* answer(res, 403, `scrub grant ${verified.left}`)
    const grant = verified.right
    // Used up here, whatever comes next: a scrub that fails is not retried with the same grant.
    const fresh = AcceptedGrants.accept(
      accepted,
      AcceptedGrants.identityOf(token ?? ""),
      grant.expiresAt,
      now,
    )
    if (Either.isLeft(fresh))
      return yield* fresh.left._tag === "GrantReplayed"
        ? answer(res, 403, fresh.left.message)
        : answer(res, 429, fresh.left.message, { "retry-after": String(fresh.left.retryAfterSeconds) })
    const container = yield* Effect.either(
      containers.locate({
        namespace: grant.namespace,
        pod: grant.pod,
        podUid: grant.podUid,
        container: grant.container,
        containerId: grant.containerId,
      }),
    )
    if (Either.isLeft(container)) return yield* answer(res, 409, container.left.message)
    const scrubbed = yield* Effect.either(PodStateScrub.scrub(container.right.process.pid, tools))
    if (Either.isLeft(scrubbed)) return yield* answer(res, 500, scrubbed.left.message)
    yield* Effect.logInfo(`cleared the Pod state of ${grant.namespace}/${grant.pod}`)
    return yield* answer(res, 204)
  }).pipe(Effect.catchAllDefect((defect) => answer(res, 500, `scrub failed: ${String(defect)}`)))
