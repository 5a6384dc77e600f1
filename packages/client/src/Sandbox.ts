import type { CreateSandboxRequest, Sandbox } from "@agent-sandbox/domain/api"
import { Effect } from "effect"
import { AgentSandboxClient } from "./AgentSandboxClient.ts"

/**
 * A sandbox that lives as long as the current Scope: released when the scope closes, whether the
 * program succeeded, failed or was interrupted. The create itself is not interrupted halfway (an
 * acquire is uninterruptible), so a claim the server already made is always released, never leaked.
 */
export const scoped = (request: typeof CreateSandboxRequest.Encoded) =>
  Effect.flatMap(AgentSandboxClient, (client) =>
    Effect.acquireRelease(client.sandboxes.create({ payload: request }), (sandbox) =>
      release(client, sandbox),
    ),
  )

/** `count` sandboxes (all or none) released together when the scope closes. */
export const scopedBatch = (request: typeof CreateSandboxRequest.Encoded & { readonly count: number }) =>
  Effect.flatMap(AgentSandboxClient, (client) =>
    Effect.acquireRelease(
      Effect.map(client.sandboxes.createBatch({ payload: request }), (batch) => batch.sandboxes),
      (sandboxes) => Effect.forEach(sandboxes, (s) => release(client, s), { concurrency: 16, discard: true }),
    ),
  )

/** Already gone (expired, released elsewhere) is fine; anything else is logged, never thrown from a finalizer. */
const release = (client: AgentSandboxClient["Type"], sandbox: Sandbox) =>
  client.sandboxes.delete({ path: { id: sandbox.id } }).pipe(
    Effect.catchTag("SandboxNotFound", () => Effect.void),
    Effect.catchAll((error) =>
      Effect.logWarning(`agent-sandbox: releasing sandbox ${sandbox.id} failed`, error),
    ),
  )
