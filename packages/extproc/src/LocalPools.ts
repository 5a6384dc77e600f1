/**
 * This cluster's SandboxPools, watched once per extproc and shared: LocalCapacity counts their warm
 * Pods, LocalSandboxes reads their `spec.portAccess`. One informer, one watch connection.
 */
import { type SandboxPool, SandboxPoolResource } from "@agent-sandbox/domain"
import { Informer, type KubeClient } from "@agent-sandbox/kube"
import { Context, Layer } from "effect"

export class LocalPools extends Context.Tag("@agent-sandbox/extproc/LocalPools")<
  LocalPools,
  Informer.Informer<SandboxPool>
>() {}

export interface LocalPoolsOptions {
  /** Pools of this namespace only; every namespace when undefined. */
  readonly namespace: string | undefined
}

export const layer = (options: LocalPoolsOptions): Layer.Layer<LocalPools, never, KubeClient.KubeClient> =>
  Layer.scoped(LocalPools, Informer.make(SandboxPoolResource, { namespace: options.namespace }))
