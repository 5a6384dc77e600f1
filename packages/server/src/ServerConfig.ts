import { hostname } from "node:os"
import { SandboxIdFormat } from "@agent-sandbox/domain"
import { Config, ConfigError, Context, Effect, Either, Layer } from "effect"
import * as Limits from "./Limits.ts"
import * as TenantPolicy from "./tenancy/TenantPolicy.ts"

/** Everything the operator process is told from outside, read once at the edge. */
export interface ServerConfigShape {
  /** Where the operator keeps its own objects: the leader Lease and API-key Secrets. */
  readonly systemNamespace: string
  /** Watch pools and Pods of this namespace only; every namespace when undefined. */
  readonly watchNamespace: string | undefined
  /** The namespace of a pool a request names without one. */
  readonly defaultNamespace: string
  /** Unique per replica: the Lease identity and the salt of its claim order. */
  readonly replicaId: string
  readonly host: string
  readonly apiPort: number
  readonly probePort: number
  /** Prometheus metrics (GET /metrics); not served when undefined (AGENT_SANDBOX_METRICS_PORT=0). */
  readonly metricsPort?: number | undefined
  /** false (AGENT_SANDBOX_METRICS=off): nothing recorded, nothing served; default true. */
  readonly recordMetrics?: boolean | undefined
  readonly maxWaitMillis: number
  readonly waitCapacity: number
  readonly retryAfterSeconds: number
  /** API-server lookups of sandbox ids this replica's cache does not know, in flight at once (default 4). */
  readonly apiLookups?: number | undefined
  /** How long a terminal token (POST /v1/sandboxes/{id}/terminal-token) stays usable; default 60. */
  readonly terminalTokenTtlSeconds?: number | undefined
  /** The E2B-compatible API and envd data plane, on one port; not served when undefined. */
  readonly e2b?: E2bServerConfig | undefined
  /** Pools and quotas of keys whose Secret sets none; default: the default namespace's pools, Limits. */
  readonly tenantDefaults?: TenantPolicy.TenantDefaults | undefined
  /** Request and data-plane bounds; default: Limits.defaults. */
  readonly limits?: Partial<Limits.Limits> | undefined
  /** Minted sandbox ids carry it (`<cluster>-<random>`) for cross-cluster routing; none when undefined. */
  readonly clusterTag?: SandboxIdFormat.ClusterTag | undefined
}

/** The tenant defaults in force (the configured ones, else the safe ones). */
export const tenantDefaultsOf = (config: ServerConfigShape): TenantPolicy.TenantDefaults =>
  config.tenantDefaults ?? TenantPolicy.defaults(config.defaultNamespace)

/** The limits in force: the configured ones over the safe defaults. */
export const limitsOf = (config: ServerConfigShape): Limits.Limits => ({
  ...Limits.defaults,
  ...config.limits,
})

export interface E2bServerConfig {
  readonly port: number
  /** Sandboxes are also reached at `49983-<id>.<domain>` (and creates report it); none when undefined. */
  readonly domain: string | undefined
  /**
   * Forward envd requests to the node agent of the sandbox's node where one runs (exec through the
   * API server elsewhere); every request through exec when undefined (AGENT_SANDBOX_NODE_AGENTS=false).
   */
  readonly nodeAgents?: NodeAgentsConfig | undefined
}

export interface NodeAgentsConfig {
  /** How long a grant the server signs for an agent stays valid (a request must reach the agent by then). */
  readonly grantSeconds: number
  /**
   * How long one fresh read of a sandbox's Pod stands for its later requests to an agent (the
   * grant names the container that read found; the agent refuses another): 0 reads it every time.
   */
  readonly confirmSeconds: number
  /** Sandboxes whose confirmation is remembered at once (the oldest is forgotten first). */
  readonly maxConfirmed: number
  /**
   * How long an agent may take to clear a Pod recycled in place (its /dev/shm and SysV IPC) before
   * the operator deletes the Pod instead (default 30).
   */
  readonly scrubSeconds?: number | undefined
}

/** How long a node agent may take to clear a recycled Pod's own state, by default. */
export const defaultScrubSeconds = 30

export class ServerConfig extends Context.Tag("@agent-sandbox/server/ServerConfig")<
  ServerConfig,
  ServerConfigShape
>() {}

const config = Config.all({
  systemNamespace: Config.string("AGENT_SANDBOX_SYSTEM_NAMESPACE").pipe(
    Config.withDefault("agent-sandbox-system"),
  ),
  watchNamespace: Config.option(Config.string("AGENT_SANDBOX_WATCH_NAMESPACE")),
  defaultNamespace: Config.string("AGENT_SANDBOX_DEFAULT_NAMESPACE").pipe(Config.withDefault("default")),
  replicaId: Config.string("AGENT_SANDBOX_REPLICA_ID").pipe(
    Config.withDefault(`${hostname()}-${process.pid}`),
  ),
  host: Config.string("AGENT_SANDBOX_HOST").pipe(Config.withDefault("0.0.0.0")),
  apiPort: Config.port("AGENT_SANDBOX_API_PORT").pipe(Config.withDefault(8080)),
  probePort: Config.port("AGENT_SANDBOX_PROBE_PORT").pipe(Config.withDefault(8081)),
  maxWaitMillis: Config.integer("AGENT_SANDBOX_MAX_WAIT_MS").pipe(Config.withDefault(30_000)),
  waitCapacity: Config.integer("AGENT_SANDBOX_WAIT_CAPACITY").pipe(Config.withDefault(2_000)),
  retryAfterSeconds: Config.integer("AGENT_SANDBOX_RETRY_AFTER_SECONDS").pipe(Config.withDefault(1)),
  apiLookups: Config.integer("AGENT_SANDBOX_API_LOOKUPS").pipe(
    Config.validate({ message: "must be at least 1", validation: (n) => n >= 1 }),
    Config.withDefault(4),
  ),
  e2bPort: Config.port("AGENT_SANDBOX_E2B_PORT").pipe(Config.withDefault(8090)),
  metricsPort: Config.integer("AGENT_SANDBOX_METRICS_PORT").pipe(Config.withDefault(8082)),
  metrics: Config.literal("on", "off")("AGENT_SANDBOX_METRICS").pipe(Config.withDefault("on")),
  terminalTokenTtlSeconds: Config.integer("AGENT_SANDBOX_TERMINAL_TOKEN_TTL_SECONDS").pipe(
    Config.validate({ message: "must be between 1 and 3600", validation: (n) => n >= 1 && n <= 3600 }),
    Config.withDefault(60),
  ),
  e2bDomain: Config.option(Config.string("AGENT_SANDBOX_E2B_DOMAIN")),
  tenantPools: Config.option(
    Config.string("AGENT_SANDBOX_TENANT_POOLS").pipe(
      Config.mapOrFail((text) =>
        Either.mapLeft(TenantPolicy.parsePools(text), (message) => ConfigError.InvalidData([], message)),
      ),
    ),
  ),
  maxAllocated: Config.number("AGENT_SANDBOX_TENANT_MAX_ALLOCATED").pipe(
    Config.withDefault(TenantPolicy.defaultQuotas.maxAllocated),
  ),
  maxWaiting: Config.number("AGENT_SANDBOX_TENANT_MAX_WAITING").pipe(
    Config.withDefault(TenantPolicy.defaultQuotas.maxWaiting),
  ),
  createsPerSecond: Config.number("AGENT_SANDBOX_TENANT_CREATES_PER_SECOND").pipe(
    Config.withDefault(TenantPolicy.defaultQuotas.createsPerSecond),
  ),
  limits: Limits.config,
  clusterTag: Config.option(
    Config.string("AGENT_SANDBOX_CLUSTER_TAG").pipe(
      Config.validate({
        message: "AGENT_SANDBOX_CLUSTER_TAG: 1–16 lowercase letters and digits",
        validation: (tag) => SandboxIdFormat.clusterTagPattern.test(tag),
      }),
    ),
  ),
  nodeAgents: Config.boolean("AGENT_SANDBOX_NODE_AGENTS").pipe(Config.withDefault(true)),
  nodeAgentGrantSeconds: Config.integer("AGENT_SANDBOX_NODE_AGENT_GRANT_SECONDS").pipe(
    Config.withDefault(60),
  ),
  nodeAgentConfirmSeconds: Config.integer("AGENT_SANDBOX_NODE_AGENT_CONFIRM_SECONDS").pipe(
    Config.validate({ message: "must be 0 or more", validation: (n) => n >= 0 }),
    Config.withDefault(30),
  ),
  nodeAgentMaxConfirmed: Config.integer("AGENT_SANDBOX_NODE_AGENT_MAX_CONFIRMED").pipe(
    Config.validate({ message: "must be 0 or more", validation: (n) => n >= 0 }),
    Config.withDefault(100_000),
  ),
  nodeAgentScrubSeconds: Config.integer("AGENT_SANDBOX_NODE_AGENT_SCRUB_SECONDS").pipe(
    Config.validate({ message: "must be 1 or more", validation: (n) => n >= 1 }),
    Config.withDefault(defaultScrubSeconds),
  ),
})

export const layerFromEnv = Layer.effect(
  ServerConfig,
  Effect.map(
    config,
    ({
      e2bPort,
      e2bDomain,
      metricsPort,
      metrics,
      clusterTag,
      tenantPools,
      maxAllocated,
      maxWaiting,
      createsPerSecond,
      nodeAgents,
      nodeAgentGrantSeconds,
      nodeAgentConfirmSeconds,
      nodeAgentMaxConfirmed,
      nodeAgentScrubSeconds,
      ...c
    }) => ({
      ...c,
      recordMetrics: metrics === "on",
      clusterTag: clusterTag._tag === "Some" ? (clusterTag.value as SandboxIdFormat.ClusterTag) : undefined,
      tenantDefaults: {
        pools:
          tenantPools._tag === "Some" ? tenantPools.value : TenantPolicy.defaults(c.defaultNamespace).pools,
        quotas: { maxAllocated, maxWaiting, createsPerSecond },
      },
      metricsPort: metricsPort === 0 || metrics === "off" ? undefined : metricsPort,
      watchNamespace: c.watchNamespace._tag === "Some" ? c.watchNamespace.value : undefined,
      e2b: {
        port: e2bPort,
        domain: e2bDomain._tag === "Some" ? e2bDomain.value : undefined,
        nodeAgents: nodeAgents
          ? {
              grantSeconds: nodeAgentGrantSeconds,
              confirmSeconds: nodeAgentConfirmSeconds,
              maxConfirmed: nodeAgentMaxConfirmed,
              scrubSeconds: nodeAgentScrubSeconds,
            }
          : undefined,
      },
    }),
  ),
)

export const layer = (value: ServerConfigShape) => Layer.succeed(ServerConfig, value)
