import { createContextKey, type HandlerContext } from "@connectrpc/connect"
import { Effect } from "effect"
import { type EnvdError, envdError, fromResolveError } from "./EnvdError.ts"
import type { EnvdRequest, ResolveSandbox, SandboxTarget } from "./SandboxTarget.ts"

/** The Node request behind a Connect call, so the resolver sees the original headers and host. */
export const nodeRequestKey = createContextKey<EnvdRequest | undefined>(undefined, {
  description: "the Node.js request of an envd call",
})

/** The sandbox a Connect call is for. */
export const targetOf =
  (resolveSandbox: ResolveSandbox) =>
  (context: HandlerContext): Effect.Effect<SandboxTarget, EnvdError> => {
    const request = context.values.get(nodeRequestKey)
    return request === undefined
      ? Effect.fail(envdError("internal", "the envd handler was mounted without its request context"))
      : Effect.mapError(resolveSandbox(request), fromResolveError)
  }
