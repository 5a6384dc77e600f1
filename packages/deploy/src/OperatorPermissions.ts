/**
 * What the operator asks of the API server, as RBAC sees it: one entry per resource, verb and
 * (where the name is fixed) object name, and where it applies. Derived from the code (see the
 * comment atop chart/templates/rbac.yaml for which code makes each request); the chart's install
 * test compares it with the rules the API server reports for the chart's ServiceAccount.
 */

export type Scope =
  /** Cluster-scoped objects (templates). */
  | "cluster"
  /** The namespaces whose pools and sandbox Pods it watches (all, or AGENT_SANDBOX_WATCH_NAMESPACE). */
  | "watched"
  /** Its own namespace (the release's): the Lease and the key Secrets. */
  | "system"

export interface Permission {
  readonly scope: Scope
  /** "" for the core group. */
  readonly group: string
  readonly resource: string
  readonly verb: string
  readonly name?: string
  /** Asked only where node agents run (the chart's nodeAgent.enabled, AGENT_SANDBOX_NODE_AGENTS). */
  readonly nodeAgents?: true
}

const each = (
  scope: Scope,
  group: string,
  resource: string,
  verbs: ReadonlyArray<string>,
  name?: string,
): ReadonlyArray<Permission> =>
  verbs.map((verb) =>
    name === undefined ? { scope, group, resource, verb } : { scope, group, resource, verb, name },
  )

const sandboxGroup = "sandbox.agent-sandbox.dev"

export const operatorPermissions: ReadonlyArray<Permission> = [
  ...each("cluster", sandboxGroup, "sandboxtemplates", ["list", "watch"]),
  ...each("watched", "", "pods", ["create", "delete", "get", "list", "patch", "watch"]),
  ...each("watched", "", "pods/exec", ["create", "get"]),
  ...each("watched", sandboxGroup, "sandboxpools", ["list", "patch", "watch"]),
  ...each("watched", sandboxGroup, "sandboxpools/status", ["patch"]),
  ...each("watched", "networking.k8s.io", "networkpolicies", ["create", "delete", "patch"]),
  ...each("system", "coordination.k8s.io", "leases", ["get", "update"], "agent-sandbox-operator"),
  ...each("system", "", "secrets", ["list", "watch"]),
  ...each("system", "", "secrets", ["get"], "agent-sandbox-e2b-token-key"),
  ...each("system", "", "secrets", ["get"], "agent-sandbox-terminal-token-key"),
  // The E2B server's NodeAgents: the agents' Leases (where each runs) and the key its grants are
  // signed with.
  ...[
    ...each("system", "coordination.k8s.io", "leases", ["list", "watch"]),
    ...each("system", "", "secrets", ["get"], "agent-sandbox-node-agent-grant-key"),
  ].map((p): Permission => ({ ...p, nodeAgents: true })),
]

/** The operator's permissions for an install with or without node agents. */
export const operatorPermissionsWith = (options: {
  readonly nodeAgents: boolean
}): ReadonlyArray<Permission> =>
  operatorPermissions.filter((p) => options.nodeAgents || p.nodeAgents !== true)

/** What wsproxy asks (its own ServiceAccount; see chart/templates/wsproxy.yaml for which code asks). */
export const wsproxyPermissions: ReadonlyArray<Permission> = [
  ...each("watched", "", "pods", ["get"]),
  ...each("watched", "", "pods/exec", ["create", "get"]),
  ...each("system", "", "secrets", ["get"], "agent-sandbox-terminal-token-key"),
]

/**
 * What wsproxy's :9004 sync asks as a hub (packages/wsproxy/src/SyncHub.ts): watches of the key
 * Secrets, templates and pools, and a read of its token (the chart makes it).
 */
export const syncHubPermissions: ReadonlyArray<Permission> = [
  ...each("cluster", sandboxGroup, "sandboxtemplates", ["list", "watch"]),
  ...each("watched", sandboxGroup, "sandboxpools", ["list", "watch"]),
  ...each("system", "", "secrets", ["list", "watch"]),
  ...each("system", "", "secrets", ["get"], "agent-sandbox-sync-token"),
]

/**
 * What a sync member asks (packages/wsproxy/src/SyncMember.ts): server-side apply (patch, and
 * create for an object that is new), reads before each write, labelled lists after a snapshot,
 * deletes of what it applied; the token is read with the same get.
 */
export const syncMemberPermissions: ReadonlyArray<Permission> = [
  ...each("cluster", sandboxGroup, "sandboxtemplates", ["create", "delete", "get", "list", "patch"]),
  ...each("watched", sandboxGroup, "sandboxpools", ["create", "delete", "get", "list", "patch"]),
  ...each("system", "", "secrets", ["create", "delete", "get", "list", "patch"]),
]

/** What Kubernetes grants every authenticated user (system:basic-user), reported alongside. */
export const everyAuthenticatedUser: ReadonlyArray<Permission> = [
  ...each("cluster", "authentication.k8s.io", "selfsubjectreviews", ["create"]),
  ...each("cluster", "authorization.k8s.io", "selfsubjectaccessreviews", ["create"]),
  ...each("cluster", "authorization.k8s.io", "selfsubjectrulesreviews", ["create"]),
]

/** One line per permission, `verb group/resource[/name]`: comparable and readable in a diff. */
export const line = (p: Permission): string =>
  `${p.verb} ${p.group === "" ? "core" : p.group}/${p.resource}${p.name === undefined ? "" : `/${p.name}`}`

/**
 * The sorted lines a SelfSubjectRulesReview in `namespace` should report for the ServiceAccount:
 * cluster-wide permissions everywhere, the watched ones in watched namespaces, the system ones in
 * the system namespace.
 */
export const expectedIn = (options: {
  readonly namespace: string
  readonly systemNamespace: string
  /** undefined: every namespace is watched. */
  readonly watchNamespace: string | undefined
  readonly nodeAgents: boolean
}): ReadonlyArray<string> => {
  const applies = (p: Permission) =>
    p.scope === "cluster" ||
    (p.scope === "watched" &&
      (options.watchNamespace === undefined || options.watchNamespace === options.namespace)) ||
    (p.scope === "system" && options.namespace === options.systemNamespace)
  return [
    ...new Set([...operatorPermissionsWith(options), ...everyAuthenticatedUser].filter(applies).map(line)),
  ].sort()
}

/** A rule as RBAC and SelfSubjectRulesReview write it. */
export interface ResourceRule {
  readonly verbs: ReadonlyArray<string>
  readonly apiGroups?: ReadonlyArray<string> | undefined
  readonly resources?: ReadonlyArray<string> | undefined
  readonly resourceNames?: ReadonlyArray<string> | undefined
}

/** Rules flattened into the same sorted lines (a rule lists several groups, resources, verbs, names). */
export const linesOf = (rules: ReadonlyArray<ResourceRule>): ReadonlyArray<string> => {
  const lines = new Set<string>()
  for (const rule of rules)
    for (const group of rule.apiGroups ?? [""])
      for (const resource of rule.resources ?? [])
        for (const verb of rule.verbs)
          for (const name of rule.resourceNames === undefined || rule.resourceNames.length === 0
            ? [undefined]
            : rule.resourceNames)
            lines.add(
              line(
                name === undefined
                  ? { scope: "cluster", group, resource, verb }
                  : { scope: "cluster", group, resource, verb, name },
              ),
            )
  return [...lines].sort()
}

const covers = (rule: ResourceRule, p: Permission): boolean =>
  (rule.apiGroups ?? [""]).includes(p.group) &&
  (rule.resources ?? []).includes(p.resource) &&
  rule.verbs.includes(p.verb) &&
  (p.name === undefined
    ? rule.resourceNames === undefined || rule.resourceNames.length === 0
    : rule.resourceNames?.includes(p.name) === true)

/**
 * The rules less exactly one permission: a rule that grants it is split into one rule per group,
 * resource, name and verb, and the one granting the permission is left out. Everything else the
 * rules grant stays granted.
 */
export const rulesWithout = (
  rules: ReadonlyArray<ResourceRule>,
  removed: Permission,
): ReadonlyArray<ResourceRule> =>
  rules.flatMap((rule) => {
    if (!covers(rule, removed)) return [rule]
    const kept: Array<ResourceRule> = []
    for (const group of rule.apiGroups ?? [""])
      for (const resource of rule.resources ?? [])
        for (const verb of rule.verbs)
          for (const name of rule.resourceNames === undefined || rule.resourceNames.length === 0
            ? [undefined]
            : rule.resourceNames) {
            const single = { apiGroups: [group], resources: [resource], verbs: [verb] }
            if (!covers(name === undefined ? single : { ...single, resourceNames: [name] }, removed))
              kept.push(name === undefined ? single : { ...single, resourceNames: [name] })
          }
    return kept
  })
