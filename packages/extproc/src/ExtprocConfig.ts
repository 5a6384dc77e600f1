/** Everything the extproc process is told from outside, read once at the edge. */
import { SandboxIdFormat } from "@agent-sandbox/domain"
import { Config, Context, Duration, Layer, Option } from "effect"
import { defaultMissLookups } from "./LocalSandboxes.ts"
import type * as TokenBucket from "./TokenBucket.ts"

export interface ExtprocConfigShape {
  /** This cluster's tag, the one its operator puts in sandbox ids (AGENT_SANDBOX_CLUSTER_TAG). */
  readonly cluster: SandboxIdFormat.ClusterTag
  /** This cluster's E2B API and envd (the operator's E2B port), `host:port`. */
  readonly localUpstream: string
  readonly host: string
  readonly port: number
  readonly controlPort: number
  /** Sandboxes are addressed as `<port>-<id>.<domain>`; host routing off when undefined. */
  readonly domain: string | undefined
  /** The static config file (other clusters, pinned routes); none when undefined. */
  readonly configFile: string | undefined
  /** Another cluster without a report for this long is unavailable (its sandboxes get 503). */
  readonly staleAfter: Duration.Duration
  /** Pools watched for this cluster's capacity (and sandboxes for their ports): this namespace, or all when undefined. */
  readonly watchNamespace: string | undefined
  /**
   * The operator's system namespace, where the E2B token key's Secret is (traffic access tokens
   * are checked under it); private sandbox ports stay shut (503) when undefined.
   */
  readonly systemNamespace: string | undefined
  /** Other clusters' control planes (:9003) to register this cluster with. */
  readonly peers: ReadonlyArray<string>
  /** This cluster's gateway (its Envoy) as the other clusters reach it. */
  readonly gateway: string | undefined
  readonly reportEvery: Duration.Duration
  /** Sandboxes whose last activity is kept (the least recent dropped beyond it). */
  readonly maxActivity: number
  /**
   * API-server lookups of a sandbox port's id that the watch cache does not have yet (just
   * claimed): per second and burst, over all ids.
   */
  readonly missLookups: TokenBucket.Limits
}

export class ExtprocConfig extends Context.Tag("@agent-sandbox/extproc/ExtprocConfig")<
  ExtprocConfig,
  ExtprocConfigShape
>() {}

const optional = (name: string) => Config.map(Config.option(Config.string(name)), Option.getOrUndefined)

const config = Config.all({
  cluster: Config.string("AGENT_SANDBOX_CLUSTER_TAG").pipe(
    Config.validate({
      message: "AGENT_SANDBOX_CLUSTER_TAG: 1–16 lowercase letters and digits",
      validation: (tag) => SandboxIdFormat.clusterTagPattern.test(tag),
    }),
    Config.map((tag) => tag as SandboxIdFormat.ClusterTag),
  ),
  localUpstream: Config.string("AGENT_SANDBOX_EXTPROC_LOCAL_UPSTREAM"),
  host: Config.string("AGENT_SANDBOX_EXTPROC_HOST").pipe(Config.withDefault("0.0.0.0")),
  port: Config.port("AGENT_SANDBOX_EXTPROC_PORT").pipe(Config.withDefault(9002)),
  controlPort: Config.port("AGENT_SANDBOX_EXTPROC_CONTROL_PORT").pipe(Config.withDefault(9003)),
  domain: optional("AGENT_SANDBOX_E2B_DOMAIN"),
  configFile: optional("AGENT_SANDBOX_EXTPROC_CONFIG"),
  staleAfter: Config.integer("AGENT_SANDBOX_EXTPROC_STALE_AFTER_MS").pipe(
    Config.withDefault(15_000),
    Config.map(Duration.millis),
  ),
  watchNamespace: optional("AGENT_SANDBOX_WATCH_NAMESPACE"),
  systemNamespace: optional("AGENT_SANDBOX_SYSTEM_NAMESPACE"),
  peers: Config.map(optional("AGENT_SANDBOX_EXTPROC_PEERS"), (peers) =>
    (peers ?? "")
      .split(",")
      .map((p) => p.trim())
      .filter((p) => p !== ""),
  ),
  gateway: optional("AGENT_SANDBOX_EXTPROC_GATEWAY"),
  reportEvery: Config.integer("AGENT_SANDBOX_EXTPROC_REPORT_EVERY_MS").pipe(
    Config.withDefault(3_000),
    Config.map(Duration.millis),
  ),
  maxActivity: Config.integer("AGENT_SANDBOX_EXTPROC_MAX_ACTIVITY").pipe(Config.withDefault(100_000)),
  missLookups: Config.all({
    perSecond: Config.number("AGENT_SANDBOX_EXTPROC_MISS_LOOKUPS_PER_SECOND").pipe(
      Config.withDefault(defaultMissLookups.perSecond),
      Config.validate({ message: "must be 0 or more", validation: (n) => n >= 0 }),
    ),
    burst: Config.integer("AGENT_SANDBOX_EXTPROC_MISS_LOOKUP_BURST").pipe(
      Config.withDefault(defaultMissLookups.burst),
      Config.validate({ message: "must be 0 or more", validation: (n) => n >= 0 }),
    ),
  }),
})

export const layerFromEnv = Layer.effect(ExtprocConfig, config)

export const layer = (value: ExtprocConfigShape) => Layer.succeed(ExtprocConfig, value)

/** Defaults for everything but the cluster and its upstream (tests, embedding). */
export const defaults = (cluster: SandboxIdFormat.ClusterTag, localUpstream: string): ExtprocConfigShape => ({
  cluster,
  localUpstream,
  host: "127.0.0.1",
  port: 0,
  controlPort: 0,
  domain: undefined,
  configFile: undefined,
  staleAfter: Duration.seconds(15),
  watchNamespace: undefined,
  systemNamespace: undefined,
  peers: [],
  gateway: undefined,
  reportEvery: Duration.seconds(3),
  maxActivity: 100_000,
  missLookups: defaultMissLookups,
})
