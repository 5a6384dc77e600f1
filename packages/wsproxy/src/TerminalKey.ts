/** The key terminal tokens are checked with: the one the REST API signs them with (one Secret). */
import { TerminalToken } from "@agent-sandbox/domain"
import { type KubeClient, type KubeError, SecretKey } from "@agent-sandbox/kube"
import { Context, Effect, Layer } from "effect"
import { WsproxyConfig } from "./WsproxyConfig.ts"

export class TerminalKey extends Context.Tag("@agent-sandbox/wsproxy/TerminalKey")<
  TerminalKey,
  { readonly key: Uint8Array }
>() {}

export const layer: Layer.Layer<TerminalKey, KubeError.KubeError, KubeClient.KubeClient | WsproxyConfig> =
  Layer.effect(
    TerminalKey,
    Effect.gen(function* () {
      const { systemNamespace } = yield* WsproxyConfig
      const key = yield* SecretKey.getOrCreate({
        namespace: systemNamespace,
        name: TerminalToken.keySecretName,
      })
      return { key }
    }),
  )
