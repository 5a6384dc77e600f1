import type { KubeClient, KubeConfig, KubeError } from "@agent-sandbox/kube"
import { Effect, type Scope } from "effect"
import * as TestNamespace from "../TestNamespace.ts"
import * as SandboxCrds from "./SandboxCrds.ts"

export interface OperatorNamespaces {
  /** Where a test's pools and Pods live (the replica watches it). */
  readonly namespace: string
  /** The operator's own objects: its Lease, API key Secrets. */
  readonly system: string
}

/**
 * The CRDs installed, a fresh namespace for a test's pools and one beside it (`<prefix>-system`)
 * for the operator's own objects; both removed with the scope.
 */
export const make = (
  prefix: string,
): Effect.Effect<
  OperatorNamespaces,
  KubeError.KubeError | string,
  KubeClient.KubeClient | KubeConfig.KubeConfig | Scope.Scope
> =>
  Effect.gen(function* () {
    yield* SandboxCrds.install
    const namespace = yield* TestNamespace.make(prefix)
    const system = yield* TestNamespace.make(`${prefix}-system`)
    return { namespace, system }
  })
