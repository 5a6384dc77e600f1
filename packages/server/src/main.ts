import { KubeConfig } from "@agent-sandbox/kube"
import { NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import * as OperatorServer from "./OperatorServer.ts"
import * as ServerConfig from "./ServerConfig.ts"

// The operator + API server: configuration from the environment, the cluster from $KUBECONFIG
// (or in-cluster credentials).
OperatorServer.layer.pipe(
  Layer.provide(ServerConfig.layerFromEnv),
  Layer.provide(KubeConfig.layerFromDefault),
  Layer.launch,
  NodeRuntime.runMain,
)
