import { KubeClient, KubeConfig } from "@agent-sandbox/kube"
import { TestNamespace } from "@agent-sandbox/testing"
import { Effect, Layer } from "effect"
import { installCrds } from "./Crds.ts"

/** The API server vitest started (KUBECONFIG), through the operator's own client. */
export const cluster = Layer.provideMerge(KubeClient.layer, KubeConfig.layerFromDefault)

/**
 * The CRDs installed, a fresh namespace for a test's pools and one beside it (`<prefix>-system`)
 * for the operator's own objects (its Lease, API key Secrets); both removed with the scope.
 */
export const operatorNamespaces = (prefix: string) =>
  Effect.gen(function* () {
    yield* installCrds
    const namespace = yield* TestNamespace.make(prefix)
    const system = yield* TestNamespace.make(`${prefix}-system`)
    return { namespace, system }
  })
