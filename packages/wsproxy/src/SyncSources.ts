/**
 * What a hub watches (one watch per source) and what each watch's objects become on the wire.
 * Templates and pools are read as the API server's JSON, without the domain Schemas: what travels
 * is what the hub's API server holds, defaults included, and nothing the hub's code version adds.
 */
import { ApiGroup } from "@agent-sandbox/domain"
import { type KubeObject, ResourceType } from "@agent-sandbox/kube"
import type { Secret } from "kubernetes-types/core/v1.js"
import * as SyncObject from "./SyncObject.ts"

/** Key Secrets as a member writes them: plain objects (a member never reads a key Secret's fields). */
export const SecretJson = ResourceType.make<KubeObject.KubeObject>({
  apiVersion: "v1",
  kind: "Secret",
  plural: "secrets",
  namespaced: true,
})

export const SandboxTemplateJson = ResourceType.make<SyncObject.CustomObject>({
  apiVersion: ApiGroup.apiVersion,
  kind: ApiGroup.kinds.SandboxTemplate,
  plural: ApiGroup.plurals.SandboxTemplate,
  namespaced: false,
})

export const SandboxPoolJson = ResourceType.make<SyncObject.CustomObject>({
  apiVersion: ApiGroup.apiVersion,
  kind: ApiGroup.kinds.SandboxPool,
  plural: ApiGroup.plurals.SandboxPool,
  namespaced: true,
})

export interface Source<T extends KubeObject.KubeObject> {
  /** Names the source in the hub's log (a relist replaces only this source's objects). */
  readonly name: string
  readonly type: ResourceType.ResourceType<T>
  readonly namespace: string | undefined
  readonly labelSelector: string | undefined
  readonly toSynced: (object: T) => SyncObject.SyncedObject | undefined
  /** The ref a delete (or an object that stopped qualifying) removes. */
  readonly refOf: (object: T) => SyncObject.ObjectRef | undefined
}

export type AnySource = Source<Secret> | Source<SyncObject.CustomObject>

const named =
  (kind: SyncObject.Kind) =>
  (object: KubeObject.KubeObject): SyncObject.ObjectRef | undefined =>
    object.metadata?.name === undefined
      ? undefined
      : kind === "SandboxPool"
        ? { kind, namespace: object.metadata.namespace ?? "", name: object.metadata.name }
        : { kind, name: object.metadata.name }

/** The hub's sources: key Secrets of its system namespace, every template, the pools of `poolNamespaces` (empty: all). */
export const sources = (
  systemNamespace: string,
  poolNamespaces: ReadonlyArray<string>,
): ReadonlyArray<AnySource> => [
  {
    name: `ApiKey/${systemNamespace}`,
    type: ResourceType.Secret,
    namespace: systemNamespace,
    labelSelector: `${SyncObject.apiKeyLabel}=true`,
    toSynced: SyncObject.fromApiKeySecret,
    refOf: named("ApiKey"),
  } satisfies Source<Secret>,
  {
    name: "SandboxTemplate",
    type: SandboxTemplateJson,
    namespace: undefined,
    labelSelector: undefined,
    toSynced: SyncObject.fromTemplate,
    refOf: named("SandboxTemplate"),
  } satisfies Source<SyncObject.CustomObject>,
  ...(poolNamespaces.length === 0 ? [undefined] : poolNamespaces).map(
    (namespace): Source<SyncObject.CustomObject> => ({
      name: `SandboxPool/${namespace ?? "*"}`,
      type: SandboxPoolJson,
      namespace,
      labelSelector: undefined,
      toSynced: SyncObject.fromPool,
      refOf: named("SandboxPool"),
    }),
  ),
]
