import { KubeConfig, KubeError } from "@agent-sandbox/kube"
import * as k8s from "@kubernetes/client-node"
import { Context, Duration, Effect, Layer, type Scope } from "effect"
import { eventually } from "./Eventually.ts"

/** A namespace of one test, removed when the test's scope closes. */
export class TestNamespace extends Context.Tag("@agent-sandbox/testing/TestNamespace")<
  TestNamespace,
  { readonly name: string }
>() {}

/** Label on every test namespace, to find leftovers of crashed runs. */
export const testNamespaceLabel = "agent-sandbox.dev/test-namespace"

/** `<prefix>-<random>`, a valid DNS label (63 characters at most). */
export const namespaceName = (prefix: string, random: string): string => {
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 50)
  return `${clean === "" ? "test" : clean}-${random}`
}

const randomSuffix = (): string => Math.random().toString(36).slice(2, 8).padEnd(6, "0")

/**
 * Creates a uniquely named namespace and waits for its default ServiceAccount (Pods are rejected until
 * the controller manager has made it); deletes the namespace when the scope closes, without waiting for it
 * to be finalized.
 */
export const make = (
  prefix = "test",
): Effect.Effect<string, KubeError.KubeError, KubeConfig.KubeConfig | Scope.Scope> =>
  Effect.gen(function* () {
    const core = (yield* KubeConfig.KubeConfig).makeApiClient(k8s.CoreV1Api)
    const name = namespaceName(prefix, randomSuffix())
    yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () =>
          core.createNamespace({ body: { metadata: { name, labels: { [testNamespaceLabel]: "true" } } } }),
        catch: KubeError.fromUnknown(`create v1/namespaces ${name}`),
      }),
      () =>
        Effect.tryPromise(() => core.deleteNamespace({ name })).pipe(
          Effect.catchAll((cause) => Effect.logWarning(`deleting test namespace ${name}`, cause)),
        ),
    )
    yield* eventually(
      Effect.tryPromise({
        try: () => core.readNamespacedServiceAccount({ name: "default", namespace: name }),
        catch: KubeError.fromUnknown(`get v1/serviceaccounts ${name}/default`),
      }),
      { timeout: Duration.seconds(30) },
    )
    return name
  })

export const layer = (
  prefix?: string,
): Layer.Layer<TestNamespace, KubeError.KubeError, KubeConfig.KubeConfig> =>
  Layer.scoped(
    TestNamespace,
    Effect.map(make(prefix), (name) => ({ name })),
  )
