import * as k8s from "@kubernetes/client-node"
import { Context, Effect, Layer } from "effect"

/** Where the cluster is and how to authenticate: loaded once at the edge, never per call. */
export class KubeConfig extends Context.Tag("@agent-sandbox/kube/KubeConfig")<KubeConfig, k8s.KubeConfig>() {}

/** $KUBECONFIG, ~/.kube/config, or the in-cluster service account, as kubectl would. */
export const layerFromDefault: Layer.Layer<KubeConfig> = Layer.sync(KubeConfig, () => {
  const config = new k8s.KubeConfig()
  config.loadFromDefault()
  return config
})

/** A kubeconfig file at a known path (the local control plane writes one). */
export const layerFromFile = (path: string): Layer.Layer<KubeConfig> =>
  Layer.sync(KubeConfig, () => {
    const config = new k8s.KubeConfig()
    config.loadFromFile(path)
    return config
  })

export const currentServer: Effect.Effect<string, never, KubeConfig> = Effect.map(
  KubeConfig,
  (config) => config.getCurrentCluster()?.server ?? "",
)
