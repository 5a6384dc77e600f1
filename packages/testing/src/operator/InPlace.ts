import { KubeClient, type KubeConfig, Patch } from "@agent-sandbox/kube"
import { SandboxResources } from "@agent-sandbox/operator"
import { SandboxPod } from "@agent-sandbox/operator/internal"
import { Effect, type Scope } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"
import * as Eventually from "../Eventually.ts"
import * as FreePorts from "../FreePorts.ts"
import * as KwokConfig from "../KwokConfig.ts"
import * as OperatorHarness from "./OperatorHarness.ts"
import * as PodAudit from "./PodAudit.ts"
import * as Pools from "./Pools.ts"

/** Pod-template annotations that make KWOK play slow images (see KwokConfig.DelayAnnotation). */
export const delays = (options: { readonly imageChange?: string; readonly ready?: string }) => ({
  ...(options.imageChange === undefined
    ? {}
    : { [KwokConfig.DelayAnnotation.imageChange]: options.imageChange }),
  ...(options.ready === undefined ? {} : { [KwokConfig.DelayAnnotation.ready]: options.ready }),
})

export interface TemplateOptions {
  readonly image: string
  readonly annotations?: Record<string, string>
  /** More fields of the sandbox container (env, volumeMounts, ...). */
  readonly container?: Record<string, unknown>
  /** More fields of the Pod spec (volumes, ...). */
  readonly podSpec?: Record<string, unknown>
  readonly runtimes?: ReadonlyArray<Record<string, unknown>>
  readonly idleImage?: string
  /** Images requests may name outright (see SandboxTemplate.allowedImages). */
  readonly allowedImages?: ReadonlyArray<string>
}

/** An inline SandboxTemplate spec with one container, "sandbox". */
export const template = (options: TemplateOptions) => ({
  podTemplate: {
    metadata: { annotations: options.annotations ?? {} },
    spec: {
      ...options.podSpec,
      containers: [{ name: "sandbox", image: options.image, ...options.container }],
    },
  },
  ...(options.runtimes === undefined ? {} : { runtimes: options.runtimes }),
  ...(options.idleImage === undefined ? {} : { idleImage: options.idleImage }),
  ...(options.allowedImages === undefined ? {} : { allowedImages: options.allowedImages }),
})

/** A pool with its own inline template (see `template`). */
export const createPool = (
  namespace: string,
  name: string,
  spec: Record<string, unknown> & { readonly template: ReturnType<typeof template> },
) => Pools.createPool(namespace, name, spec)

/** Replaces the pool's inline template (a merge patch of the whole template object). */
export const setTemplate = (namespace: string, pool: string, next: ReturnType<typeof template>) =>
  Effect.flatMap(KubeClient.KubeClient, (client) =>
    client.patch(SandboxResources.SandboxPoolResource, pool, Patch.merge({ spec: { template: next } }), {
      namespace,
    }),
  )

/** An operator replica on free loopback ports, for the life of the current scope. */
export const runOperator = (
  namespace: string,
  systemNamespace: string,
  replicaId: string,
): Effect.Effect<OperatorHarness.RunningOperator, unknown, Scope.Scope | KubeConfig.KubeConfig> =>
  Effect.flatMap(FreePorts.freePorts(2), ([apiPort, probePort]) =>
    OperatorHarness.startOperator({
      namespace,
      systemNamespace,
      apiPort: apiPort!,
      probePort: probePort!,
      replicaId,
      maxWaitMillis: 20_000,
    }),
  )

/** The sandbox container's spec image. */
export const specImage = (pod: Pod): string => SandboxPod.sandboxContainer(pod)?.image ?? ""

/** An idle Pod mid-update: its spec names `image`, and it is not Ready on it yet. */
export const updatingTo = (pod: Pod, image: string): boolean => {
  const view = SandboxPod.read(pod)
  return view !== undefined && view.state === "idle" && !view.deleting && view.image === image && !view.ready
}

/** Waits until the pool has exactly `count` claimable Pods and every one of them runs `image`. */
export const claimableOn = (namespace: string, pool: string, count: number, image: string) =>
  Eventually.eventually(
    Effect.flatMap(PodAudit.audit(namespace, pool), (a) => {
      const onImage = a.claimable.filter((p) => SandboxPod.read(p)?.image === image)
      return onImage.length === count && a.claimable.length === count && a.inconsistent.length === 0
        ? Effect.succeed(a)
        : Effect.fail(`${onImage.length} of ${a.claimable.length} claimable on ${image}`)
    }),
    { timeout: "120 seconds", interval: "250 millis" },
  )
