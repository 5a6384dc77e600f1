import type { SandboxPoolStatus } from "@agent-sandbox/domain"
import { KubeClient } from "@agent-sandbox/kube"
import { SandboxResources } from "@agent-sandbox/operator"
import { Effect } from "effect"
import * as Eventually from "../Eventually.ts"

/**
 * Waits until the pool's status (written by the leader's reconciler) says what `expected` asks:
 * the reconciler has caught up with the Pods and has nothing left in flight for this pool.
 */
export const awaitPoolStatus = (
  namespace: string,
  pool: string,
  expected: (status: Partial<SandboxPoolStatus>) => boolean,
) =>
  Eventually.eventually(
    Effect.flatMap(KubeClient.KubeClient, (client) =>
      client.get(SandboxResources.SandboxPoolResource, pool, { namespace }),
    ).pipe(
      Effect.flatMap((current) =>
        expected(current.status ?? {}) ? Effect.void : Effect.fail(JSON.stringify(current.status)),
      ),
    ),
    { timeout: "30 seconds", interval: "200 millis" },
  )
