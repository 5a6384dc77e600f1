/**
 * The operator's one front door: everything REST, E2B, RPC and later front ends do with sandboxes
 * goes through this service. Nothing else of the operator is exported to them.
 */
import type {
  ClusterUnavailable,
  InvalidRequest,
  SandboxNotFound,
  SandboxPool,
  SandboxTemplate,
} from "@agent-sandbox/domain"
import { Context, type Effect, type Option, type Stream } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"
import type { AllocationError, AllocationRequest } from "./allocation/AllocationRequest.ts"
import type { Caller } from "./allocation/Caller.ts"
import type * as SandboxPod from "./sandbox/SandboxPod.ts"

export type { AllocationError, AllocationRequest } from "./allocation/AllocationRequest.ts"
export type { Caller } from "./allocation/Caller.ts"

/** An allocated sandbox: the operator's reading of its Pod, and the Pod as the cache keeps it. */
export interface AllocatedSandbox {
  readonly sandbox: SandboxPod.SandboxPod
  /** A projection of the Pod (CachedPod.project): the fields the operator and front ends read. */
  readonly pod: Pod
}

/** What happens to sandboxes, as this replica's watch sees it. */
export type SandboxEvent =
  | { readonly _tag: "Allocated"; readonly sandbox: AllocatedSandbox }
  /** Its Pod changed: an extended expiry, Ready after an image switch, a failure. */
  | { readonly _tag: "Updated"; readonly sandbox: AllocatedSandbox }
  /** Released, expired or its Pod gone; the last reading it had. */
  | { readonly _tag: "Ended"; readonly sandbox: SandboxPod.SandboxPod }

export interface SandboxesShape {
  /** Claims one warm Pod with one conditional write; waits (fairly, bounded) when none is idle. */
  readonly allocate: (request: AllocationRequest) => Effect.Effect<AllocatedSandbox, AllocationError>
  /** `count` sandboxes, all or none: on failure (or interruption) the ones claimed are released. */
  readonly allocateBatch: (
    request: AllocationRequest,
    count: number,
  ) => Effect.Effect<ReadonlyArray<AllocatedSandbox>, AllocationError>
  /**
   * The caller's sandbox (an admin sees every tenant's): this replica's cache, then the API server,
   * since another replica's claim may not have reached this replica's watch yet.
   */
  readonly get: (caller: Caller, sandboxId: string) => Effect.Effect<AllocatedSandbox, SandboxNotFound>
  /** Any tenant's sandbox by id, the same way as `get`: for front ends that check their own credentials. */
  readonly lookup: (sandboxId: string) => Effect.Effect<Option.Option<AllocatedSandbox>>
  /** The caller's sandboxes, as this replica's cache has them. */
  readonly list: (caller: Caller) => Effect.Effect<ReadonlyArray<AllocatedSandbox>>
  /** Sets the sandbox to expire `timeoutSeconds` from now, within the pool's maximum. */
  readonly extend: (
    caller: Caller,
    sandboxId: string,
    timeoutSeconds: number,
  ) => Effect.Effect<AllocatedSandbox, SandboxNotFound | InvalidRequest | ClusterUnavailable>
  /** Ends the sandbox: its Pod is recycled in place or deleted, per the pool's recycle policy. */
  readonly release: (caller: Caller, sandboxId: string) => Effect.Effect<void, SandboxNotFound | ClusterUnavailable>
  /** The caller's sandboxes' lifecycle from now on. */
  readonly events: (caller: Caller) => Stream.Stream<SandboxEvent>
  readonly pool: (namespace: string, name: string) => Effect.Effect<Option.Option<SandboxPool>>
  readonly pools: Effect.Effect<ReadonlyArray<SandboxPool>>
  readonly templates: Effect.Effect<ReadonlyArray<SandboxTemplate>>
  /** Completes once this replica's watches have listed once. */
  readonly ready: Effect.Effect<void>
}

export class Sandboxes extends Context.Tag("@agent-sandbox/operator/Sandboxes")<Sandboxes, SandboxesShape>() {}
