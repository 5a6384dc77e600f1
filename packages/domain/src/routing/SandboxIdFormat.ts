/**
 * The form of a sandbox id: `<cluster>-<random>` when the operator has a cluster tag
 * (AGENT_SANDBOX_CLUSTER_TAG), plain `<random>` without one. The tag is what lets the cross-cluster
 * extproc route a request by its id alone, with no global lookup. Either form is one DNS label
 * (E2B's SDKs address a sandbox as `<port>-<id>.<domain>`) and a label value.
 */
import { Schema } from "effect"

/** A cluster tag: 1–16 lowercase letters and digits (no '-': the first '-' of an id ends it). */
export const clusterTagPattern = /^[a-z0-9]{1,16}$/

export const ClusterTag = Schema.String.pipe(
  Schema.pattern(clusterTagPattern, {
    message: () => "a cluster tag is 1–16 lowercase letters and digits",
  }),
  Schema.brand("ClusterTag"),
)
export type ClusterTag = typeof ClusterTag.Type

const untagged = /^[a-z0-9]{1,63}$/
const tagged = /^([a-z0-9]{1,16})-([a-z0-9]{1,46})$/

/** Any id this project mints or minted: plain, or tagged with its cluster. */
export const isWellFormed = (id: string): boolean => untagged.test(id) || tagged.test(id)

/** The id a sandbox gets: its random part behind the cluster's tag, when there is one. */
export const compose = (cluster: ClusterTag | undefined, random: string): string =>
  cluster === undefined ? random : `${cluster}-${random}`

/** The cluster an id names; undefined for an untagged (or malformed) id. */
export const clusterOf = (id: string): ClusterTag | undefined => {
  const match = tagged.exec(id)
  return match === null ? undefined : (match[1] as ClusterTag)
}

/** The id pattern inside a larger one (a host label, a path): both forms. */
export const idSource = "[a-z0-9]{1,16}-[a-z0-9]{1,46}|[a-z0-9]{1,63}"
