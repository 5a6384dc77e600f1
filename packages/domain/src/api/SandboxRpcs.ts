import { Rpc, RpcGroup, RpcMiddleware } from "@effect/rpc"
import { Schema } from "effect"
import { DnsLabel } from "../resources/Names.ts"
import {
  CapacityUnavailable,
  ClusterUnavailable,
  ExecFailed,
  ImageNotAllowed,
  InvalidRequest,
  PoolNotFound,
  QuotaExceeded,
  SandboxImageFailed,
  SandboxNotFound,
  SandboxStartupTimeout,
  TooManyWaiting,
  Unauthorized,
} from "./ApiErrors.ts"
import {
  BatchCreateSandboxesRequest,
  CreateSandboxRequest,
  Sandbox,
  SandboxBatch,
  SandboxMetadata,
} from "./SandboxModels.ts"
import { CurrentTenant } from "./Tenant.ts"

/**
 * The same API keys as REST: the key travels as the `x-api-key` header of the HTTP request or
 * WebSocket upgrade, or in each RPC message's headers (what the client middleware sends).
 */
export class RpcAuthentication extends RpcMiddleware.Tag<RpcAuthentication>()("RpcAuthentication", {
  provides: CurrentTenant,
  failure: Unauthorized,
  requiredForClient: true,
}) {}

export const AllocationErrors = Schema.Union(
  PoolNotFound,
  InvalidRequest,
  CapacityUnavailable,
  TooManyWaiting,
  ImageNotAllowed,
  QuotaExceeded,
  SandboxImageFailed,
  SandboxStartupTimeout,
  ClusterUnavailable,
)

/** What happens to a sandbox, as the serving replica's watch sees it. */
export const SandboxLifecycleEvent = Schema.Union(
  Schema.TaggedStruct("Allocated", { sandbox: Sandbox }),
  /** Its expiry moved, it became Ready on a new image, or its image failed. */
  Schema.TaggedStruct("Updated", { sandbox: Sandbox }),
  /** Released, expired, or its Pod gone. */
  Schema.TaggedStruct("Ended", { id: Schema.String, namespace: Schema.String, pool: Schema.String }),
)
export type SandboxLifecycleEvent = typeof SandboxLifecycleEvent.Type

/** A command's output as it comes, then how it ended (always the last chunk). */
export const ExecChunk = Schema.Union(
  Schema.TaggedStruct("Stdout", { data: Schema.Uint8ArrayFromBase64 }),
  Schema.TaggedStruct("Stderr", { data: Schema.Uint8ArrayFromBase64 }),
  Schema.TaggedStruct("Exit", {
    exitCode: Schema.Int,
    /** Set when exec reported a failure instead of an exit code (e.g. "signal: killed"). */
    message: Schema.optional(Schema.String),
  }),
)
export type ExecChunk = typeof ExecChunk.Type

const SandboxRef = { id: Schema.String }

/**
 * Effect RPC on :8080 under /rpc (HTTP with NDJSON, or WebSocket), for orchestrators that hold
 * many sandboxes at once: the same operations as REST, plus `watch` and `exec` as streams.
 */
export class SandboxRpcs extends RpcGroup.make(
  Rpc.make("allocate", { payload: CreateSandboxRequest, success: Sandbox, error: AllocationErrors }),
  Rpc.make("allocateBatch", {
    payload: BatchCreateSandboxesRequest,
    success: SandboxBatch,
    error: AllocationErrors,
  }),
  Rpc.make("release", {
    payload: SandboxRef,
    error: Schema.Union(SandboxNotFound, ClusterUnavailable),
  }),
  Rpc.make("extend", {
    payload: { ...SandboxRef, timeoutSeconds: Schema.Int.pipe(Schema.between(1, 31_536_000)) },
    success: Sandbox,
    error: Schema.Union(SandboxNotFound, InvalidRequest, ClusterUnavailable),
  }),
  Rpc.make("get", {
    payload: SandboxRef,
    success: Sandbox,
    error: Schema.Union(SandboxNotFound, ClusterUnavailable),
  }),
  Rpc.make("list", {
    payload: {
      namespace: Schema.optional(DnsLabel),
      pool: Schema.optional(DnsLabel),
      metadata: Schema.optional(SandboxMetadata),
    },
    success: Schema.Array(Sandbox),
  }),
  Rpc.make("watch", { success: SandboxLifecycleEvent, stream: true }),
  Rpc.make("exec", {
    payload: {
      ...SandboxRef,
      /** argv: the program and its arguments, no shell unless you name one (["sh", "-c", "..."]). */
      command: Schema.NonEmptyArray(Schema.String),
    },
    success: ExecChunk,
    error: Schema.Union(SandboxNotFound, ExecFailed, ClusterUnavailable),
    stream: true,
  }),
).middleware(RpcAuthentication) {}
