#!/usr/bin/env node
import { KubeClient, KubeConfig } from "@agent-sandbox/kube"
import { NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"
import * as Extproc from "./Extproc.ts"
import * as ExtprocConfig from "./ExtprocConfig.ts"

// The cross-cluster ExtProc: configuration from the environment (ExtprocConfig), this cluster's
// pools through $KUBECONFIG (or in-cluster credentials).
Extproc.layer.pipe(
  Layer.provide(ExtprocConfig.layerFromEnv),
  Layer.provide(KubeClient.layer),
  Layer.provide(KubeConfig.layerFromDefault),
  Layer.launch,
  NodeRuntime.runMain,
)
