/**
 * The server the SDKs talk to: an operator replica in this process with the E2B API and envd on
 * loopback, a namespace with the pool `base`, and API keys (see E2bOperator in @agent-sandbox/testing/operator). The
 * SDKs are pointed at it with environment variables only, as a user would.
 */
import { KubeClient, KubeConfig } from "@agent-sandbox/kube"
import { E2bOperator } from "@agent-sandbox/testing/operator"
import { Context, Effect, Layer } from "effect"

export class SdkServer extends Context.Tag("@agent-sandbox/sdk-tests/SdkServer")<
  SdkServer,
  E2bOperator.E2bOperator
>() {}

/** What an SDK user sets: the control plane and the data plane are the same server. */
export const sdkEnvironment = (server: E2bOperator.E2bOperator, key: string): Record<string, string> => ({
  E2B_API_URL: server.url,
  E2B_SANDBOX_URL: server.url,
  E2B_API_KEY: key,
})

/** The pool `base` the suites use on KWOK: busybox, and a runtime `py` swapped in on claim. */
export const kwokPool: Record<string, unknown> = {
  replicas: 3,
  sandbox: { defaultTimeoutSeconds: 300, maxTimeoutSeconds: 600, startupTimeoutSeconds: 60 },
  // A runtime, chosen by templateID `base:py` (its image is swapped in place on claim).
  template: {
    podTemplate: { spec: { containers: [{ name: "sandbox", image: "busybox:1.36" }] } },
    runtimes: [{ name: "py", image: "python:3.12-slim", env: [{ name: "RUNTIME_FLAVOR", value: "py" }] }],
  },
}

export const layer = (
  prefix: string,
  // Short-lived sandboxes by default; the suites also check the pool's cap (600 s).
  pool: Record<string, unknown> = kwokPool,
  maxWaitMillis?: number,
): Layer.Layer<SdkServer | KubeClient.KubeClient | KubeConfig.KubeConfig, unknown> =>
  Layer.scoped(
    SdkServer,
    E2bOperator.start({ prefix, pool, ...(maxWaitMillis === undefined ? {} : { maxWaitMillis }) }),
  ).pipe(Layer.provideMerge(Layer.provideMerge(KubeClient.layer, KubeConfig.layerFromDefault)))

/** Sets the SDK environment variables in this (test worker) process for the scope's lifetime. */
export const useSdkEnvironment = (variables: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const previous = Object.fromEntries(Object.keys(variables).map((k) => [k, process.env[k]]))
      Object.assign(process.env, variables)
      return previous
    }),
    (previous) =>
      Effect.sync(() => {
        for (const [k, v] of Object.entries(previous)) {
          if (v === undefined) delete process.env[k]
          else process.env[k] = v
        }
      }),
  )
