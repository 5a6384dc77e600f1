/**
 * Where one request goes (pure): to this cluster's E2B port, to another cluster's gateway, straight
 * to a local sandbox Pod's port (`<port>-<id>.<domain>` for a port other than envd's), or an answer
 * from the extproc itself (E2B's `{code, message}` JSON). A sandbox's cluster is the tag in
 * its id (or a pinned route); a create is placed by warm capacity for its template; a request that
 * another cluster already forwarded (the loop guard header) is never forwarded again.
 */
import { SandboxIdFormat, TrafficAccessToken } from "@agent-sandbox/domain"
import * as ClusterTable from "./ClusterTable.ts"
import type * as LocalSandbox from "./LocalSandbox.ts"
import * as Placement from "./Placement.ts"
import * as RequestFacts from "./RequestFacts.ts"

export type Decision =
  | {
      readonly _tag: "Forward"
      readonly cluster: string
      /** `ip:port` for Envoy's ORIGINAL_DST cluster. */
      readonly upstream: string
      /** Through another cluster's gateway: the loop guard header goes with it. */
      readonly remote: boolean
      /**
       * `<port>-<id>` when the upstream is a sandbox's own port (Envoy then words a failed connection
       * as that port not answering, 502, rather than as a cluster being down).
       */
      readonly sandboxPort?: string
    }
  /** A create with a body: its templateID decides, so the body is read first. */
  | { readonly _tag: "ReadBody" }
  | { readonly _tag: "Reject"; readonly status: number; readonly message: string }

/** This cluster's sandboxes as the request for one of their ports needs them (LocalSandboxes). */
export type LocalLookup = (sandboxId: string) => LocalSandbox.PortFacts | undefined

export interface DecisionOptions {
  /** Sandboxes are addressed as `<port>-<id>.<domain>`; host routing is off when undefined. */
  readonly domain: string | undefined
  /** Another cluster whose last report is older than this is unavailable. */
  readonly staleAfterMillis: number
}

const forwardTo = (table: ClusterTable.ClusterTable, entry: ClusterTable.ClusterEntry): Decision => ({
  _tag: "Forward",
  cluster: entry.name,
  upstream: entry.gateway,
  remote: entry.name !== table.local,
})

const local = (table: ClusterTable.ClusterTable): Decision => {
  const entry = table.clusters.get(table.local)
  return entry === undefined
    ? { _tag: "Reject", status: 503, message: `this cluster (${table.local}) has no upstream` }
    : forwardTo(table, entry)
}

/** The cluster a sandbox lives in: a pinned route, else its id's tag, else this one. */
export const clusterOfSandbox = (table: ClusterTable.ClusterTable, sandboxId: string): string =>
  table.routes.get(sandboxId) ?? SandboxIdFormat.clusterOf(sandboxId) ?? table.local

/** `ip:port`, an IPv6 address in brackets (what Envoy's ORIGINAL_DST header takes). */
export const socketAddress = (ip: string, port: number): string =>
  ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`

/**
 * A port of one of this cluster's sandboxes, other than envd's: straight to its Pod, once it runs,
 * and for a pool whose ports are private only with the sandbox's traffic access token.
 */
export const toLocalPort = (
  table: ClusterTable.ClusterTable,
  request: RequestFacts.RequestHeaders,
  sandboxId: string,
  port: number,
  facts: LocalSandbox.PortFacts | undefined,
): Decision => {
  if (facts === undefined) {
    return {
      _tag: "Reject",
      status: 404,
      message: `sandbox ${sandboxId} was not found (no running sandbox of cluster ${table.local} has this id)`,
    }
  }
  const { sandbox } = facts
  if (sandbox.deleting || !sandbox.ready || sandbox.podIp === undefined) {
    const why = sandbox.deleting ? "it is ending" : `its Pod is ${sandbox.phase} and not ready`
    return {
      _tag: "Reject",
      status: 503,
      message: `sandbox ${sandboxId} is not running (${why}); port ${port} cannot be reached`,
    }
  }
  if (facts.access === "Private") {
    const token = request.trafficToken
    if (token === undefined || token === "") {
      return {
        _tag: "Reject",
        status: 403,
        message: `port ${port} of sandbox ${sandboxId} is private: send the sandbox's traffic access token in the ${TrafficAccessToken.header} header`,
      }
    }
    const accepted = facts.tokenAccepted(token)
    if (accepted === "NoKey") {
      return {
        _tag: "Reject",
        status: 503,
        message: `port ${port} of sandbox ${sandboxId} is private, and the token key is not available here yet`,
      }
    }
    if (!accepted) {
      return {
        _tag: "Reject",
        status: 403,
        message: `port ${port} of sandbox ${sandboxId} is private: the ${TrafficAccessToken.header} header does not hold its traffic access token`,
      }
    }
  }
  return {
    _tag: "Forward",
    cluster: table.local,
    upstream: socketAddress(sandbox.podIp, port),
    remote: false,
    sandboxPort: `${port}-${sandboxId}`,
  }
}

const toSandbox = (
  table: ClusterTable.ClusterTable,
  request: RequestFacts.RequestHeaders,
  sandboxId: string,
  port: number,
  now: number,
  options: DecisionOptions,
  lookup: LocalLookup,
): Decision => {
  const cluster = clusterOfSandbox(table, sandboxId)
  if (cluster === table.local) {
    return port === RequestFacts.envdPort
      ? local(table)
      : toLocalPort(table, request, sandboxId, port, lookup(sandboxId))
  }
  if (request.via !== undefined) {
    return {
      _tag: "Reject",
      status: 508,
      message: `sandbox ${sandboxId} belongs to cluster ${cluster}, but cluster ${request.via} already forwarded this request here (routing loop)`,
    }
  }
  const entry = table.clusters.get(cluster)
  if (entry === undefined) {
    return {
      _tag: "Reject",
      status: 404,
      message: `sandbox ${sandboxId}: cluster ${cluster} is not known here`,
    }
  }
  if (!ClusterTable.isLive(entry, now, options.staleAfterMillis)) {
    return {
      _tag: "Reject",
      status: 503,
      message: `sandbox ${sandboxId}: its cluster ${cluster} is unavailable (no report for more than ${Math.round(options.staleAfterMillis / 1000)} s)`,
    }
  }
  return forwardTo(table, entry)
}

/**
 * The sandbox id when a request is for a port of one of this cluster's sandboxes that `lookup` does
 * not have (its watch event may not be here yet): worth one read from the API server before `decide`
 * calls it unknown. Undefined for anything `decide` answers from what it has.
 */
export const localPortMiss = (
  table: ClusterTable.ClusterTable,
  target: RequestFacts.RequestTarget,
  lookup: LocalLookup,
): string | undefined =>
  target._tag === "Sandbox" &&
  target.port !== RequestFacts.envdPort &&
  clusterOfSandbox(table, target.sandboxId) === table.local &&
  lookup(target.sandboxId) === undefined
    ? target.sandboxId
    : undefined

/** Where a create goes once its template is known (undefined: it did not say). */
export const placeCreate = (
  table: ClusterTable.ClusterTable,
  template: string | undefined,
  now: number,
  options: DecisionOptions,
): Decision => {
  const name = Placement.place(table, template, now, options.staleAfterMillis)
  const entry = name === undefined ? undefined : table.clusters.get(name)
  return entry === undefined
    ? { _tag: "Reject", status: 503, message: `no cluster is available for template ${template ?? "(none)"}` }
    : forwardTo(table, entry)
}

export const decide = (
  table: ClusterTable.ClusterTable,
  request: RequestFacts.RequestHeaders,
  endOfStream: boolean,
  now: number,
  options: DecisionOptions,
  lookup: LocalLookup,
): Decision => {
  const target = RequestFacts.target(request, options.domain)
  switch (target._tag) {
    case "Sandbox":
      return toSandbox(table, request, target.sandboxId, target.port, now, options, lookup)
    case "Create":
      // Placed by the first cluster it reached; a forwarded create stays where it was sent.
      if (request.via !== undefined) return local(table)
      return endOfStream ? placeCreate(table, undefined, now, options) : { _tag: "ReadBody" }
    case "Unnamed":
      return local(table)
  }
}
