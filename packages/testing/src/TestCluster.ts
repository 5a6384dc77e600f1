import { KubeClient, KubeConfig, type KubeError } from "@agent-sandbox/kube"
import { Layer } from "effect"

/** The API server vitest started ($KUBECONFIG, see vitestGlobalSetup.ts), through the kube client. */
export const layer: Layer.Layer<KubeClient.KubeClient | KubeConfig.KubeConfig, KubeError.KubeError> =
  Layer.provideMerge(KubeClient.layer, KubeConfig.layerFromDefault)
