import { Sandbox } from "@agent-sandbox/domain"
import type { Sandboxes } from "@agent-sandbox/operator"
import { DateTime, Order, Schema } from "effect"
import * as Pager from "../listing/Pager.ts"

/**
 * The API's view of an allocated sandbox Pod. Built from the operator's own reading of the Pod,
 * so the constructor's validation is skipped: the response encoding checks every field anyway.
 */
export const toApi = ({ sandbox: pod }: Sandboxes.AllocatedSandbox): Sandbox =>
  new Sandbox(
    {
      id: pod.sandboxId ?? "",
      namespace: pod.namespace,
      pool: pod.pool,
      pod: pod.name,
      tenant: pod.tenant ?? "",
      image: pod.image,
      ...(pod.runtime === undefined ? {} : { runtime: pod.runtime }),
      ready: pod.ready,
      ...(pod.imageStatus._tag === "Failing"
        ? { imageError: `${pod.imageStatus.reason}: ${pod.imageStatus.message}` }
        : {}),
      allocatedAt: DateTime.unsafeMake(pod.allocatedAt ?? 0),
      expiresAt: DateTime.unsafeMake(pod.expiresAt ?? 0),
      metadata: pod.metadata,
    },
    { disableValidation: true },
  )

/**
 * `toApi` already in its JSON form (what `Schema.encodeSync(Sandbox)` makes of it), built directly
 * for the create's 201, once per claim: no class instance, no schema pass. Its type is the schema's
 * encoded side, so a field the schema gains or changes fails to compile here, and
 * SandboxView.test.ts checks it against the schema's own encoding.
 */
export const toEncoded = ({ sandbox: pod }: Sandboxes.AllocatedSandbox): typeof Sandbox.Encoded => ({
  id: pod.sandboxId ?? "",
  namespace: pod.namespace,
  pool: pod.pool,
  pod: pod.name,
  tenant: pod.tenant ?? "",
  image: pod.image,
  ...(pod.runtime === undefined ? {} : { runtime: pod.runtime }),
  ready: pod.ready,
  ...(pod.imageStatus._tag === "Failing"
    ? { imageError: `${pod.imageStatus.reason}: ${pod.imageStatus.message}` }
    : {}),
  allocatedAt: new Date(pod.allocatedAt ?? 0).toISOString(),
  expiresAt: new Date(pod.expiresAt ?? 0).toISOString(),
  metadata: pod.metadata,
})

/** Parses a metadata filter "k=v&k2=v2" (each part url-encoded); undefined when malformed. */
export const parseMetadataFilter = (filter: string): Record<string, string> | undefined => {
  const result: Record<string, string> = {}
  for (const part of filter.split("&")) {
    if (part === "") continue
    const eq = part.indexOf("=")
    if (eq <= 0) return undefined
    try {
      result[decodeURIComponent(part.slice(0, eq))] = decodeURIComponent(part.slice(eq + 1))
    } catch {
      return undefined
    }
  }
  return result
}

export interface ListFilter {
  readonly namespace?: string | undefined
  readonly pool?: string | undefined
  readonly metadata?: Readonly<Record<string, string>> | undefined
}

export const matches = (pod: Sandboxes.SandboxPod, filter: ListFilter): boolean =>
  (filter.namespace === undefined || pod.namespace === filter.namespace) &&
  (filter.pool === undefined || pod.pool === filter.pool) &&
  Object.entries(filter.metadata ?? {}).every(([k, v]) => pod.metadata[k] === v)

/** REST pages go by sandbox id; the cursor is the last id served (Pager.ts). */
export const Cursor = Pager.token(Schema.String)

export const page = <A extends { readonly sandboxId: string | undefined }>(
  items: ReadonlyArray<A>,
  limit: number,
  after: string | undefined,
): Pager.Page<A, string> =>
  Pager.page(items, { key: (s) => s.sandboxId ?? "", order: Order.string, limit, after })
