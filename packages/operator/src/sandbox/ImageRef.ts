/**
 * Container image references, as far as the operator has to understand them: whether the image a
 * kubelet reports in a container's status is the one its spec names, and how to name the same
 * content by another reference (which makes a kubelet restart the container without changing what
 * it runs). Pure; no registry is ever asked.
 */

export interface ImageRef {
  /** Registry host and path, normalized as Docker does: `busybox` is `docker.io/library/busybox`. */
  readonly repository: string
  readonly tag: string | undefined
  /** `sha256:<hex>` when the reference is pinned. */
  readonly digest: string | undefined
}

const defaultRegistry = "docker.io"

/** Docker's rule: the first path component is a registry host when it has a dot or a port, or is localhost. */
const isRegistryHost = (component: string): boolean =>
  component.includes(".") || component.includes(":") || component === "localhost"

export const parse = (reference: string): ImageRef => {
  const at = reference.indexOf("@")
  const named = at === -1 ? reference : reference.slice(0, at)
  const digest = at === -1 ? undefined : reference.slice(at + 1)
  // A tag is after the last colon of the last path component (a registry port has a slash after it).
  const lastSlash = named.lastIndexOf("/")
  const colon = named.indexOf(":", lastSlash + 1)
  const name = colon === -1 ? named : named.slice(0, colon)
  const tag = colon === -1 ? undefined : named.slice(colon + 1)
  const components = name.split("/")
  const first = components[0] ?? ""
  const hasHost = components.length > 1 && isRegistryHost(first)
  const host = hasHost ? (first === "index.docker.io" ? defaultRegistry : first) : defaultRegistry
  const path = hasHost ? components.slice(1).join("/") : name
  const fullPath = host === defaultRegistry && !path.includes("/") ? `library/${path}` : path
  return { repository: `${host}/${fullPath}`, tag, digest }
}

/** A reference spelled out in full (registry, path, tag, digest), for exact comparisons. */
export const canonical = (reference: string): string => {
  const ref = parse(reference)
  return `${ref.repository}${ref.tag === undefined ? "" : `:${ref.tag}`}${ref.digest === undefined ? "" : `@${ref.digest}`}`
}

/**
 * Whether a container status' image is the spec's image. Runtimes report it in their own form
 * (`docker.io/library/busybox:1.36` for `busybox:1.36`; a pinned reference as repository@digest or
 * as repository:tag), so the repositories must agree, then the digests if both have one, else
 * the tags (`latest` when none) if both have one.
 */
export const sameImage = (spec: string, status: string): boolean => {
  const a = parse(spec)
  const b = parse(status)
  if (a.repository !== b.repository) return false
  if (a.digest !== undefined && b.digest !== undefined) return a.digest === b.digest
  const tagA = a.tag ?? (a.digest === undefined ? "latest" : undefined)
  const tagB = b.tag ?? (b.digest === undefined ? "latest" : undefined)
  return tagA === undefined || tagB === undefined || tagA === tagB
}

const repositoryDigest = /@(sha256:[0-9a-f]{64})$/

/**
 * The content digest of the image a container runs, from its status' imageID, when that is a
 * repository digest (`docker.io/library/busybox@sha256:…`, as containerd and CRI-O report pulled
 * images). A bare `sha256:…` is a local image ID, not something a reference can name: undefined.
 */
export const repositoryDigestOf = (imageID: string | undefined): string | undefined =>
  imageID === undefined ? undefined : repositoryDigest.exec(imageID)?.[1]

/**
 * The same image under another reference: `reference@digest`. Changing a container's image to it
 * changes the Pod spec, so the kubelet restarts the container (a fresh writable layer) while running
 * the very same content, already on the node. Undefined when the reference is pinned already.
 */
export const pinned = (reference: string, digest: string): string | undefined =>
  reference.includes("@") ? undefined : `${reference}@${digest}`
