import { KubeConfig } from "@agent-sandbox/kube"
import { NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import * as Wsproxy from "./Wsproxy.ts"
import * as WsproxyConfig from "./WsproxyConfig.ts"

// The WebSocket terminal proxy: configuration from the environment, the cluster from $KUBECONFIG
// (or in-cluster credentials).
Wsproxy.layer.pipe(
  Layer.provide(WsproxyConfig.layerFromEnv),
  Layer.provide(KubeConfig.layerFromDefault),
  Layer.launch,
  NodeRuntime.runMain,
)
