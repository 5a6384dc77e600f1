import type {
  CapacityUnavailable,
  ClusterUnavailable,
  ImageNotAllowed,
  InvalidRequest,
  PoolNotFound,
  SandboxImageFailed,
  SandboxStartupTimeout,
  TooManyWaiting,
} from "@agent-sandbox/domain"

/** One allocation, as every front door asks for it (REST, E2B, RPC fill it from their own shapes). */
export interface AllocationRequest {
  readonly namespace: string
  readonly pool: string
  readonly tenant: string
  readonly timeoutSeconds?: number | undefined
  readonly metadata?: Readonly<Record<string, string>> | undefined
  /**
   * Extra annotations written by the claim. Keep them under an `*.agent-sandbox.dev/` prefix (as
   * `e2b.agent-sandbox.dev/…`): recycling a Pod removes exactly those (SandboxPod.isSandboxKey).
   */
  readonly annotations?: Readonly<Record<string, string>> | undefined
  /** A runtime of the pool's template, by name (its image; its env goes to the data plane). */
  readonly runtime?: string | undefined
  /** An image for the sandbox container. Neither: the template's own image. */
  readonly image?: string | undefined
  /**
   * When the Pod must switch image: wait until it is Ready on it (default), or answer at once
   * (the sandbox reads ready: false until then; the pool ends it if it misses its startup timeout).
   */
  readonly wait?: boolean | undefined
}

export type AllocationError =
  | PoolNotFound
  | InvalidRequest
  | ImageNotAllowed
  | CapacityUnavailable
  | TooManyWaiting
  | ClusterUnavailable
  | SandboxImageFailed
  | SandboxStartupTimeout
