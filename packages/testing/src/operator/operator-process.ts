// One operator replica as a process of its own, for tests that kill it outright (SIGKILL):
// `node operator-process.ts '<ServerConfig JSON>'`, the cluster from $KUBECONFIG.
import { KubeConfig } from "@agent-sandbox/kube"
import { OperatorServer, ServerConfig } from "@agent-sandbox/server"
import { NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"

OperatorServer.layer.pipe(
  Layer.provide(ServerConfig.layer(JSON.parse(process.argv[2] ?? "{}") as ServerConfig.ServerConfigShape)),
  Layer.provide(KubeConfig.layerFromDefault),
  Layer.launch,
  NodeRuntime.runMain,
)
