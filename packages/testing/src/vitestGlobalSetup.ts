// Vitest global setup (see /vitest.config.ts): one control plane for the whole run, its scope open until
// teardown. Test workers are forked after this runs, so they inherit KUBECONFIG. With
// AGENT_SANDBOX_EXTERNAL_CLUSTER=1 the cluster $KUBECONFIG points at is used instead.
import { Config, Context, Effect, Exit, Layer, Scope } from "effect"
import * as ControlPlane from "./ControlPlane.ts"
import * as ProgressLogger from "./ProgressLogger.ts"

const useExternalCluster = Config.boolean("AGENT_SANDBOX_EXTERNAL_CLUSTER").pipe(Config.withDefault(false))

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)}s`

export default async function setup(): Promise<() => Promise<void>> {
  if (await Effect.runPromise(useExternalCluster)) {
    console.log(
      `control plane: using the external cluster of KUBECONFIG=${process.env.KUBECONFIG ?? "~/.kube/config"}`,
    )
    return async () => {}
  }
  const started = Date.now()
  const scope = Effect.runSync(Scope.make())
  const controlPlane = await Effect.runPromise(
    Layer.buildWithScope(ControlPlane.layer(), scope).pipe(
      Effect.map(Context.get(ControlPlane.ControlPlane)),
      Effect.provide(ProgressLogger.layer),
      Effect.onError(() => Scope.close(scope, Exit.void)),
    ),
  )
  process.env.KUBECONFIG = controlPlane.kubeconfigPath
  console.log(
    `control plane: started in ${seconds(started)} (${controlPlane.server}, data in ${controlPlane.dataDir})`,
  )
  // The teardown prints nothing: it runs after the reporters, and CI reads the run's last line
  // (PlainSummaryReporter's "vitest: N passed, N failed, N skipped") to count the tests it ran.
  return () => Effect.runPromise(Scope.close(scope, Exit.void))
}
