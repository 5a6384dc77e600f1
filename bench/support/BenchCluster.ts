import { KubeClient } from "@agent-sandbox/kube"
import { ControlPlane } from "@agent-sandbox/testing"
import { Layer } from "effect"

/**
 * A local control plane of its own for one benchmark run (stopped and removed when the run ends),
 * with the admin KubeConfig and a KubeClient (defaults: the operator's own client settings).
 */
export const layer = (options: ControlPlane.ControlPlaneOptions) =>
  KubeClient.layer.pipe(
    Layer.provideMerge(ControlPlane.layerKubeConfig),
    Layer.provideMerge(ControlPlane.layer(options)),
  )
