import { HashMap, Option, Order, SortedMap } from "effect"

/** An idle, Ready Pod the allocator may claim; resourceVersion makes the claim conditional. */
export interface WarmPod {
  readonly name: string
  readonly resourceVersion: string
  /** The sandbox container's current image: the allocator prefers a Pod already on the wanted one. */
  readonly image: string
  /** The sandbox container, and the container ID running in it (an image swap is done once it changes). */
  readonly containerName?: string | undefined
  readonly containerId?: string | undefined
}

/**
 * The idle Pods of one pool, grouped by image. Within a group, Pods are taken in an order that is
 * a hash of the Pod name salted per operator replica: replicas watching the same pool then reach
 * for different Pods first, so concurrent claims rarely collide (a collision costs a 409 and a retry).
 * Persistent (immutable) so an STM transaction can swap it atomically.
 */
export interface IdlePods {
  readonly salt: string
  readonly byImage: HashMap.HashMap<string, SortedMap.SortedMap<string, WarmPod>>
  readonly rankByName: HashMap.HashMap<string, { readonly image: string; readonly rank: string }>
}

export const empty = (salt: string): IdlePods => ({
  salt,
  byImage: HashMap.empty(),
  rankByName: HashMap.empty(),
})

export const size = (self: IdlePods): number => HashMap.size(self.rankByName)

export const has = (self: IdlePods, name: string): boolean => HashMap.has(self.rankByName, name)

const emptyGroup = SortedMap.empty<string, WarmPod>(Order.string)

/** FNV-1a: a cheap, stable spread of names; not for security. */
const fnv1a = (text: string): string => {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0).toString(16).padStart(8, "0")
}

export const remove = (self: IdlePods, name: string): IdlePods =>
  Option.match(HashMap.get(self.rankByName, name), {
    onNone: () => self,
    onSome: ({ image, rank }) => {
      const group = SortedMap.remove(
        HashMap.get(self.byImage, image).pipe(Option.getOrElse(() => emptyGroup)),
        rank,
      )
      return {
        salt: self.salt,
        byImage:
          SortedMap.size(group) === 0
            ? HashMap.remove(self.byImage, image)
            : HashMap.set(self.byImage, image, group),
        rankByName: HashMap.remove(self.rankByName, name),
      }
    },
  })

/** Adds a Pod, or replaces what was known of it (a newer resourceVersion, another image). */
export const upsert = (self: IdlePods, pod: WarmPod): IdlePods => {
  const without = remove(self, pod.name)
  const rank = `${fnv1a(self.salt + pod.name)}/${pod.name}`
  const group = HashMap.get(without.byImage, pod.image).pipe(Option.getOrElse(() => emptyGroup))
  return {
    salt: self.salt,
    byImage: HashMap.set(without.byImage, pod.image, SortedMap.set(group, rank, pod)),
    rankByName: HashMap.set(without.rankByName, pod.name, { image: pod.image, rank }),
  }
}

/**
 * Takes one Pod: on the preferred image when there is one, else from the largest group (the
 * image most Pods sit on, which keeps the rarer images for callers who ask for them).
 */
export const take = (self: IdlePods, preferImage?: string): Option.Option<readonly [WarmPod, IdlePods]> => {
  const preferred = preferImage === undefined ? Option.none() : HashMap.get(self.byImage, preferImage)
  const group = Option.orElse(preferred, () => largestGroup(self))
  return Option.flatMap(group, SortedMap.headOption).pipe(
    Option.map(([, pod]) => [pod, remove(self, pod.name)] as const),
  )
}

const largestGroup = (self: IdlePods): Option.Option<SortedMap.SortedMap<string, WarmPod>> => {
  let best: SortedMap.SortedMap<string, WarmPod> | undefined
  for (const group of HashMap.values(self.byImage)) {
    if (best === undefined || SortedMap.size(group) > SortedMap.size(best)) best = group
  }
  return Option.fromNullable(best)
}
