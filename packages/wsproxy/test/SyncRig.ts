/**
 * Two local control planes for the :9004 sync: the hub is the control plane vitest started (no
 * operator: only the objects that sync), the member a second one started here with an operator
 * replica (REST and E2B) over KWOK, a pool namespace and a system namespace whose names the hub's
 * cluster gets too. The hub and members run in this process, each in a scope of its own, so a
 * test can stop and restart them; everything stops with the rig.
 */
import { KubeClient, KubeConfig, ResourceType } from "@agent-sandbox/kube"
import { ControlPlane, FreePorts } from "@agent-sandbox/testing"
import { E2bOperator, SandboxCrds } from "@agent-sandbox/testing/operator"
import { Context, Duration, Effect, Exit, Layer, Scope } from "effect"
import * as SyncApply from "../src/SyncApply.ts"
import * as SyncConfig from "../src/SyncConfig.ts"
import * as SyncHub from "../src/SyncHub.ts"
import * as SyncMemberModule from "../src/SyncMember.ts"
import { SyncMember } from "../src/SyncMember.ts"

export interface Stoppable<A> {
  readonly value: A
  readonly stop: Effect.Effect<void>
}

export interface SyncRigShape {
  readonly hub: KubeClient.KubeClientShape
  readonly member: KubeClient.KubeClientShape
  /** Pool namespace and system namespace: the same names in both clusters. */
  readonly namespace: string
  readonly system: string
  readonly hubUrl: string
  /** The member cluster's operator: REST and E2B, with keys minted in that cluster. */
  readonly operator: E2bOperator.E2bOperator
  readonly startHub: Effect.Effect<Stoppable<void>, unknown>
  readonly startMember: (tokenSecret?: string) => Effect.Effect<Stoppable<SyncMember["Type"]>, unknown>
}

export class SyncRig extends Context.Tag("@agent-sandbox/wsproxy/test/SyncRig")<SyncRig, SyncRigShape>() {}

const kubeOf = (config: KubeConfig.KubeConfig["Type"], fieldManager?: string) =>
  (fieldManager === undefined ? KubeClient.layer : KubeClient.layerWith({ fieldManager })).pipe(
    Layer.provide(Layer.succeed(KubeConfig.KubeConfig, config)),
  )

export const layer = Layer.scoped(
  SyncRig,
  Effect.gen(function* () {
    const rigScope = yield* Effect.scope
    const kubeConfigA = yield* KubeConfig.KubeConfig
    const hub = yield* KubeClient.KubeClient
    yield* SandboxCrds.install

    const planeB = yield* ControlPlane.make({ nodes: 1 })
    const kubeConfigB = yield* Effect.provide(
      KubeConfig.KubeConfig,
      KubeConfig.layerFromFile(planeB.kubeconfigPath),
    )
    const member = Context.get(
      yield* Layer.buildWithScope(kubeOf(kubeConfigB), rigScope),
      KubeClient.KubeClient,
    )
    const operator = yield* E2bOperator.start({ prefix: "sync-m" }).pipe(
      Effect.provideService(KubeClient.KubeClient, member),
      Effect.provideService(KubeConfig.KubeConfig, kubeConfigB),
    )
    const namespace = operator.namespace
    const system = operator.systemNamespace
    // The same namespaces on the hub's cluster, removed with the rig.
    for (const name of [namespace, system]) {
      yield* Effect.acquireRelease(hub.create(ResourceType.Namespace, { metadata: { name } }), () =>
        Effect.ignore(hub.delete(ResourceType.Namespace, name)),
      )
    }

    const [hubPort] = yield* FreePorts.freePorts(1)
    const base: SyncConfig.SyncConfigShape = {
      mode: "hub",
      systemNamespace: system,
      poolNamespaces: [namespace],
      tokenSecret: "agent-sandbox-sync-token",
      host: "127.0.0.1",
      port: hubPort!,
      maxChanges: 1000,
      heartbeat: Duration.seconds(1),
      hubUrl: `http://127.0.0.1:${hubPort}`,
      hubSilence: Duration.seconds(5),
      maxBackoff: Duration.seconds(1),
    }
    const startIn = <A>(make: (scope: Scope.Scope) => Effect.Effect<A, unknown>) =>
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        yield* Scope.addFinalizer(rigScope, Scope.close(scope, Exit.void))
        const value = yield* make(scope)
        return { value, stop: Scope.close(scope, Exit.void) }
      })
    const startHub = startIn((scope) =>
      Effect.asVoid(
        Layer.buildWithScope(
          SyncHub.layer.pipe(Layer.provide(SyncConfig.layer(base)), Layer.provide(kubeOf(kubeConfigA))),
          scope,
        ),
      ),
    )
    const startMember = (tokenSecret = base.tokenSecret) =>
      startIn((scope) =>
        Effect.map(
          Layer.buildWithScope(
            SyncMemberModule.layer.pipe(
              Layer.provide(SyncConfig.layer({ ...base, mode: "member", tokenSecret })),
              Layer.provide(kubeOf(kubeConfigB, SyncApply.fieldManager)),
            ),
            scope,
          ),
          (context) => Context.get(context, SyncMember),
        ),
      )
    return { hub, member, namespace, system, hubUrl: base.hubUrl, operator, startHub, startMember }
  }),
).pipe(Layer.provideMerge(Layer.provideMerge(KubeClient.layer, KubeConfig.layerFromDefault)))
