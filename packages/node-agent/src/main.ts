import { KubeClient, KubeConfig } from "@agent-sandbox/kube"
import { NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import * as NodeAgent from "./NodeAgent.ts"
import * as NodeAgentConfig from "./NodeAgentConfig.ts"

// The node agent: configuration from the environment (the DaemonSet's), the cluster from
// in-cluster credentials (or $KUBECONFIG).
NodeAgent.layer.pipe(
  Layer.provide(NodeAgentConfig.layerFromEnv),
  Layer.provide(Layer.provideMerge(KubeClient.layer, KubeConfig.layerFromDefault)),
  Layer.launch,
  NodeRuntime.runMain,
)
