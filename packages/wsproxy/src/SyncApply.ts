/**
 * What a member writes for what the hub sent (pure): the server-side apply body of each object,
 * under the member's own field manager and marked with `syncedLabel`, which is how the member
 * knows later what it applied: it deletes and overwrites only objects that carry it.
 */
import { ApiGroup } from "@agent-sandbox/domain"
import type { KubeObject, ResourceType } from "@agent-sandbox/kube"
import * as SyncObject from "./SyncObject.ts"
import * as SyncSources from "./SyncSources.ts"

/** On every object a member applied from its hub. */
export const syncedLabel = `${ApiGroup.keyPrefix}synced-from-hub`

/** The member's field manager: its own, shared with no other writer. */
export const fieldManager = "agent-sandbox-sync"

export interface Target {
  readonly type: ResourceType.ResourceType<KubeObject.KubeObject>
  readonly name: string
  readonly namespace: string | undefined
}

/** Where a hub object lives on the member: key Secrets in the member's system namespace, pools where they were. */
export const targetOf = (ref: SyncObject.ObjectRef, systemNamespace: string): Target => {
  switch (ref.kind) {
    case "ApiKey":
      return { type: SyncSources.SecretJson, name: ref.name, namespace: systemNamespace }
    case "SandboxTemplate":
      return { type: SyncSources.SandboxTemplateJson, name: ref.name, namespace: undefined }
    case "SandboxPool":
      return { type: SyncSources.SandboxPoolJson, name: ref.name, namespace: ref.namespace }
  }
}

/** Whether a member configured for `poolNamespaces` (empty: all) takes this object. */
export const accepts = (ref: SyncObject.ObjectRef, poolNamespaces: ReadonlyArray<string>): boolean =>
  ref.kind !== "SandboxPool" || poolNamespaces.length === 0 || poolNamespaces.includes(ref.namespace ?? "")

export const isOurs = (object: KubeObject.KubeObject): boolean =>
  object.metadata?.labels?.[syncedLabel] === "true"

/** The apply body: every field the member owns, nothing more. */
export const bodyOf = (
  object: SyncObject.SyncedObject,
  systemNamespace: string,
): KubeObject.KubeObject & Record<string, unknown> => {
  switch (object._tag) {
    case "ApiKey":
      return {
        apiVersion: "v1",
        kind: "Secret",
        metadata: {
          name: object.name,
          namespace: systemNamespace,
          labels: {
            [SyncObject.apiKeyLabel]: "true",
            [SyncObject.tenantLabel]: object.fields.tenant ?? "",
            [syncedLabel]: "true",
          },
        },
        type: "Opaque",
        data: Object.fromEntries(
          Object.entries(object.fields).flatMap(([field, value]) =>
            value === undefined ? [] : [[field, Buffer.from(value, "utf8").toString("base64")]],
          ),
        ),
      }
    case "SandboxTemplate":
      return {
        apiVersion: ApiGroup.apiVersion,
        kind: ApiGroup.kinds.SandboxTemplate,
        metadata: { name: object.name, labels: { ...object.labels, [syncedLabel]: "true" } },
        spec: object.spec,
      }
    case "SandboxPool":
      return {
        apiVersion: ApiGroup.apiVersion,
        kind: ApiGroup.kinds.SandboxPool,
        metadata: {
          name: object.name,
          namespace: object.namespace,
          labels: { ...object.labels, [syncedLabel]: "true" },
        },
        spec: object.spec,
      }
  }
}

/** The member's own objects of one kind as refs (what a list of its labelled objects returns). */
export const refsOf = (
  kind: SyncObject.Kind,
  objects: ReadonlyArray<KubeObject.KubeObject>,
): ReadonlyArray<SyncObject.ObjectRef> =>
  objects.flatMap((object): ReadonlyArray<SyncObject.ObjectRef> => {
    const name = object.metadata?.name
    if (name === undefined || !isOurs(object)) return []
    return kind === "SandboxPool"
      ? [{ kind, namespace: object.metadata?.namespace ?? "", name }]
      : [{ kind, name }]
  })

/** After a snapshot: what the member applied that the hub no longer has. */
export const stale = (
  applied: ReadonlyArray<SyncObject.ObjectRef>,
  snapshot: ReadonlyArray<SyncObject.SyncedObject>,
): ReadonlyArray<SyncObject.ObjectRef> => {
  const keep = new Set(snapshot.map((object) => SyncObject.keyOf(SyncObject.refOf(object))))
  return applied.filter((ref) => !keep.has(SyncObject.keyOf(ref)))
}
