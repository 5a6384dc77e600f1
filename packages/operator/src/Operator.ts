import type { SandboxIdFormat } from "@agent-sandbox/domain"
import type { KubeClient, LeaderElection } from "@agent-sandbox/kube"
import type { Duration } from "effect"
import { Layer } from "effect"
import * as DemandPublisher from "./allocation/DemandPublisher.ts"
import * as PodScrubs from "./allocation/PodScrubs.ts"
import type { PodStateScrubber } from "./allocation/PodStateScrubber.ts"
import * as WarmQueues from "./allocation/WarmQueues.ts"
import * as ClusterState from "./cluster/ClusterState.ts"
import * as PoolController from "./pool/PoolController.ts"
import * as Sandboxes from "./Sandboxes.ts"

export interface OperatorOptions {
  /** Watch this namespace only; all namespaces when undefined. */
  readonly namespace?: string | undefined
  /** This replica's identity: its Lease holder name, its claim order's salt, its waiting-count key. */
  readonly replicaId: string
  /** Callers that may wait per pool before new ones get 429. */
  readonly waitCapacity: number
  /** Longest a caller waits for a Pod when the pool is empty (also bounded by the pool's startup timeout). */
  readonly maxWait: Duration.DurationInput
  /** Retry-After sent with 503/429. */
  readonly retryAfterSeconds: number
  /** Pools reconciled at once (of different pools: one pool never twice at once). */
  readonly reconcileConcurrency: number
  /** API-server lookups of sandbox ids the cache does not know, in flight at once (default 4). */
  readonly apiLookups?: number | undefined
  /** Minted sandbox ids carry it (`<cluster>-<random>`; SandboxIdFormat); none when undefined. */
  readonly clusterTag?: SandboxIdFormat.ClusterTag | undefined
  /** How long a node agent may take to clear a recycled Pod's own state before it is deleted (default 30 s). */
  readonly scrubTimeout?: Duration.DurationInput | undefined
}

/**
 * The operator: what every replica keeps (the cluster's state, warm queues), the Sandboxes service
 * every replica serves (and the count of callers waiting on it, published for the leader), and the
 * pool controller the leader runs.
 */
export const layer = (
  options: OperatorOptions,
): Layer.Layer<
  Sandboxes.Sandboxes,
  never,
  KubeClient.KubeClient | LeaderElection.LeaderElection | PodStateScrubber
> =>
  Layer.mergeAll(
    Sandboxes.layer({
      maxWait: options.maxWait,
      retryAfterSeconds: options.retryAfterSeconds,
      apiLookups: options.apiLookups,
      clusterTag: options.clusterTag,
    }),
    DemandPublisher.layer({ replicaId: options.replicaId }),
    PoolController.layer({ replicaId: options.replicaId, concurrency: options.reconcileConcurrency }),
    PodScrubs.layer({ timeout: options.scrubTimeout }),
  ).pipe(
    Layer.provideMerge(
      WarmQueues.layer({ replicaId: options.replicaId, waitCapacity: options.waitCapacity }),
    ),
    Layer.provideMerge(ClusterState.layer({ namespace: options.namespace })),
    // Only Sandboxes leaves the operator.
    Layer.map((context) => context),
  )
