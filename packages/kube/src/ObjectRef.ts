import type { KubeObject, OwnerReference } from "./KubeObject.ts"

/** Which object: a name, and a namespace for namespaced kinds. What a reconcile is asked about. */
export interface ObjectRef {
  readonly namespace: string | undefined
  readonly name: string
}

export const make = (name: string, namespace?: string): ObjectRef => ({ namespace, name })

export const fromObject = (object: KubeObject): ObjectRef => ({
  namespace: object.metadata?.namespace,
  name: object.metadata?.name ?? "",
})

/**
 * "namespace/name", or "name" for cluster-scoped objects (client-go's key). Neither part may
 * contain "/", so the key is unambiguous and `parseKey` inverts it.
 */
export const key = (ref: ObjectRef): string =>
  ref.namespace === undefined || ref.namespace === "" ? ref.name : `${ref.namespace}/${ref.name}`

export const keyOf = (object: KubeObject): string => key(fromObject(object))

export const parseKey = (value: string): ObjectRef => {
  const slash = value.indexOf("/")
  return slash < 0
    ? { namespace: undefined, name: value }
    : { namespace: value.slice(0, slash), name: value.slice(slash + 1) }
}

/**
 * The owners of `object` with the given kind (and apiVersion group, when given), as refs in the
 * object's own namespace: owner references never cross namespaces.
 */
export const ownersOf = (
  object: KubeObject,
  owner: { readonly kind: string; readonly apiVersion?: string },
): ReadonlyArray<ObjectRef> => {
  const refs: Array<ObjectRef> = []
  for (const reference of object.metadata?.ownerReferences ?? []) {
    if (reference.kind === owner.kind && sameGroup(reference, owner.apiVersion)) {
      refs.push({ namespace: object.metadata?.namespace, name: reference.name })
    }
  }
  return refs
}

// Owner references name a version, but any served version of the same group is the same object.
const sameGroup = (reference: OwnerReference, apiVersion: string | undefined): boolean =>
  apiVersion === undefined || groupOf(reference.apiVersion) === groupOf(apiVersion)

const groupOf = (apiVersion: string): string => {
  const slash = apiVersion.indexOf("/")
  return slash < 0 ? "" : apiVersion.slice(0, slash)
}
