import type { Schema } from "effect"
import type { CustomResourceDefinition as CustomResourceDefinitionObject } from "kubernetes-types/apiextensions/v1.js"
import type { Lease as LeaseObject } from "kubernetes-types/coordination/v1.js"
import type {
  ConfigMap as ConfigMapObject,
  Event as EventObject,
  Namespace as NamespaceObject,
  Pod as PodObject,
  Secret as SecretObject,
} from "kubernetes-types/core/v1.js"
import type { NetworkPolicy as NetworkPolicyObject } from "kubernetes-types/networking/v1.js"
import type { KubeObject } from "./KubeObject.ts"

/** Where a kind lives in the REST API; what paths and error messages need. */
export interface ResourceInfo {
  /** "v1" for the core group, otherwise "group/version". */
  readonly apiVersion: string
  readonly kind: string
  /** The lowercase plural used in URLs, e.g. "pods". */
  readonly plural: string
  readonly namespaced: boolean
}

/**
 * What the client needs to know about a kind to reach it over REST. `schema`, when present,
 * decodes what the API server returns (and encodes what is sent); without it objects pass
 * through as the JSON the server sent, typed as `T`.
 */
export interface ResourceType<T extends KubeObject> extends ResourceInfo {
  // biome-ignore lint/suspicious/noExplicitAny: the encoded side is whatever JSON the schema reads
  readonly schema?: Schema.Schema<T, any> | undefined
}

/** Any resource type, for collections of several kinds (a schema makes `T` invariant). */
// biome-ignore lint/suspicious/noExplicitAny: erases the object type on purpose
export type AnyResourceType = ResourceType<any>

/** Declares a kind; `T` is the object type the caller works with. */
export const make = <T extends KubeObject>(type: ResourceType<T>): ResourceType<T> => type

/**
 * A custom resource (CRD) decoded by an Effect Schema. Unknown fields survive decoding
 * (`onExcessProperty: "preserve"`), so a read-modify-write never drops what the schema omits.
 */
export const customResource = <T extends KubeObject>(options: {
  readonly group: string
  readonly version: string
  readonly kind: string
  readonly plural: string
  readonly namespaced: boolean
  // biome-ignore lint/suspicious/noExplicitAny: see ResourceType.schema
  readonly schema?: Schema.Schema<T, any>
}): ResourceType<T> => ({
  apiVersion: `${options.group}/${options.version}`,
  kind: options.kind,
  plural: options.plural,
  namespaced: options.namespaced,
  schema: options.schema,
})

export const Pod: ResourceType<PodObject> = {
  apiVersion: "v1",
  kind: "Pod",
  plural: "pods",
  namespaced: true,
}

export const Namespace: ResourceType<NamespaceObject> = {
  apiVersion: "v1",
  kind: "Namespace",
  plural: "namespaces",
  namespaced: false,
}

export const ConfigMap: ResourceType<ConfigMapObject> = {
  apiVersion: "v1",
  kind: "ConfigMap",
  plural: "configmaps",
  namespaced: true,
}

export const Secret: ResourceType<SecretObject> = {
  apiVersion: "v1",
  kind: "Secret",
  plural: "secrets",
  namespaced: true,
}

export const Lease: ResourceType<LeaseObject> = {
  apiVersion: "coordination.k8s.io/v1",
  kind: "Lease",
  plural: "leases",
  namespaced: true,
}

/** core/v1 Events, what `kubectl describe` shows. */
export const Event: ResourceType<EventObject> = {
  apiVersion: "v1",
  kind: "Event",
  plural: "events",
  namespaced: true,
}

export const NetworkPolicy: ResourceType<NetworkPolicyObject> = {
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  plural: "networkpolicies",
  namespaced: true,
}

export const CustomResourceDefinition: ResourceType<CustomResourceDefinitionObject> = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  plural: "customresourcedefinitions",
  namespaced: false,
}

/** The URL of the collection: /api/v1/namespaces/ns/pods, /apis/group/version/plural, ... */
export const collectionPath = (type: ResourceInfo, namespace: string | undefined): string => {
  const root = type.apiVersion.includes("/") ? `/apis/${type.apiVersion}` : `/api/${type.apiVersion}`
  return type.namespaced && namespace !== undefined && namespace !== ""
    ? `${root}/namespaces/${encodeURIComponent(namespace)}/${type.plural}`
    : `${root}/${type.plural}`
}

export const objectPath = (
  type: ResourceInfo,
  name: string,
  namespace: string | undefined,
  subresource?: string,
): string => {
  const path = `${collectionPath(type, namespace)}/${encodeURIComponent(name)}`
  return subresource === undefined ? path : `${path}/${subresource}`
}

/** "v1/pods", "apps/v1/deployments": how operations name a kind in errors. */
export const describe = (type: ResourceInfo): string => `${type.apiVersion}/${type.plural}`
