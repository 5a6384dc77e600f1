import { SandboxShell } from "@agent-sandbox/envd"
import { KubeClient, type KubeConfig, type KubeError } from "@agent-sandbox/kube"
import { Layer } from "effect"
import * as TerminalKey from "./TerminalKey.ts"
import * as TerminalServer from "./TerminalServer.ts"
import * as TerminalSessions from "./TerminalSessions.ts"
import type { WsproxyConfig } from "./WsproxyConfig.ts"

/**
 * The wsproxy process: terminals and their page on :9003. Its TerminalSessions are kept in the
 * output so a harness can tell how many terminals are open.
 */
export const layer: Layer.Layer<
  TerminalSessions.TerminalSessions,
  Error | KubeError.KubeError,
  WsproxyConfig | KubeConfig.KubeConfig
> = TerminalServer.layer.pipe(
  Layer.provideMerge(TerminalSessions.layer),
  Layer.provide(TerminalKey.layer),
  Layer.provide(SandboxShell.layerKube),
  Layer.provide(KubeClient.layer),
)
