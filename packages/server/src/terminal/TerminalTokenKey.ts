/**
 * The key terminal tokens are signed with (domain's TerminalToken), shared with wsproxy through
 * one Secret in the system namespace. Deleting the Secret voids every token not yet used.
 */
import { TerminalToken } from "@agent-sandbox/domain"
import { type KubeClient, type KubeError, SecretKey } from "@agent-sandbox/kube"
import { Context, Effect, Layer } from "effect"

export class TerminalTokenKey extends Context.Tag("@agent-sandbox/server/terminal/TerminalTokenKey")<
  TerminalTokenKey,
  { readonly key: Uint8Array }
>() {}

export const layer = (
  namespace: string,
): Layer.Layer<TerminalTokenKey, KubeError.KubeError, KubeClient.KubeClient> =>
  Layer.effect(
    TerminalTokenKey,
    Effect.map(SecretKey.getOrCreate({ namespace, name: TerminalToken.keySecretName }), (key) => ({ key })),
  )
