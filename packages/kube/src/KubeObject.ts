/**
 * The part of every Kubernetes object this library relies on. Structural and lenient, so both the
 * `kubernetes-types` interfaces and objects decoded by an Effect Schema fit it.
 */
export interface KubeObjectMeta {
  readonly name?: string | undefined
  readonly generateName?: string | undefined
  readonly namespace?: string | undefined
  readonly uid?: string | undefined
  readonly resourceVersion?: string | undefined
  readonly generation?: number | undefined
  readonly labels?: { readonly [key: string]: string } | undefined
  readonly annotations?: { readonly [key: string]: string } | undefined
  readonly ownerReferences?: ReadonlyArray<OwnerReference> | undefined
  readonly finalizers?: ReadonlyArray<string> | undefined
  readonly creationTimestamp?: string | undefined
  readonly deletionTimestamp?: string | undefined
}

export interface OwnerReference {
  readonly apiVersion: string
  readonly kind: string
  readonly name: string
  readonly uid: string
  readonly controller?: boolean | undefined
  readonly blockOwnerDeletion?: boolean | undefined
}

export interface KubeObject {
  readonly apiVersion?: string | undefined
  readonly kind?: string | undefined
  readonly metadata?: KubeObjectMeta | undefined
}

export const nameOf = (object: KubeObject): string => object.metadata?.name ?? ""

export const namespaceOf = (object: KubeObject): string | undefined => object.metadata?.namespace

export const resourceVersionOf = (object: KubeObject): string | undefined => object.metadata?.resourceVersion

/**
 * Drops metadata.managedFields in place. It is the bulk of most objects and nothing downstream
 * reads it; call it only on objects this library just parsed and owns.
 */
export const stripManagedFields = <T>(object: T): T => {
  const metadata = (object as { metadata?: { managedFields?: unknown } } | null)?.metadata
  if (metadata !== undefined && metadata !== null && "managedFields" in metadata)
    delete metadata.managedFields
  return object
}
