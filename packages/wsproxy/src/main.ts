import { KubeConfig } from "@agent-sandbox/kube"
import { NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import * as Sync from "./Sync.ts"
import * as SyncConfig from "./SyncConfig.ts"
import * as Wsproxy from "./Wsproxy.ts"
import * as WsproxyConfig from "./WsproxyConfig.ts"

// The WebSocket terminal proxy and the :9004 sync (hub, member or off): configuration from the
// environment, the cluster from $KUBECONFIG (or in-cluster credentials).
Layer.mergeAll(Wsproxy.layer, Sync.layer).pipe(
  Layer.provide(WsproxyConfig.layerFromEnv),
  Layer.provide(SyncConfig.layerFromEnv),
  Layer.provide(KubeConfig.layerFromDefault),
  Layer.launch,
  NodeRuntime.runMain,
)
