import { Config, ConfigError, Context, Duration, Effect, Either, Layer, Option } from "effect"

/**
 * The :9004 sync, read once at the edge. `off` (the default) runs no sync; `hub` serves its
 * cluster's API keys, templates and pools; `member` follows a hub into its own cluster.
 */
export interface SyncConfigShape {
  readonly mode: "off" | "hub" | "member"
  /** Where the API-key Secrets and the sync token Secret live (the operator's system namespace). */
  readonly systemNamespace: string
  /** Namespaces whose pools sync (hub: watched; member: the only ones it writes); empty: all. */
  readonly poolNamespaces: ReadonlyArray<string>
  /** The Secret (data.key) holding the shared sync token: the hub makes it, members are given it. */
  readonly tokenSecret: string
  readonly host: string
  /** Hub: the port members connect to. */
  readonly port: number
  /** Hub: changes kept for members that come back; one further behind gets a snapshot. */
  readonly maxChanges: number
  /** Hub: a line every this long when nothing changes, so dead connections show. */
  readonly heartbeat: Duration.Duration
  /** Member: the hub's sync URL, e.g. http://hub-wsproxy:9004. */
  readonly hubUrl: string
  /** Member: a hub silent for this long (no change, no heartbeat) is reconnected to. */
  readonly hubSilence: Duration.Duration
  /** Member: the longest wait between reconnects (exponential from one second). */
  readonly maxBackoff: Duration.Duration
}

export class SyncConfig extends Context.Tag("@agent-sandbox/wsproxy/SyncConfig")<
  SyncConfig,
  SyncConfigShape
>() {}

const positive = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.validate({ message: "must be a positive integer", validation: (n) => n > 0 }),
    Config.withDefault(fallback),
  )

const commaList = (list: string): ReadonlyArray<string> =>
  list
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "")

const config = Config.all({
  mode: Config.literal(
    "off",
    "hub",
    "member",
  )("AGENT_SANDBOX_SYNC_MODE").pipe(Config.withDefault("off" as const)),
  systemNamespace: Config.string("AGENT_SANDBOX_SYSTEM_NAMESPACE").pipe(
    Config.withDefault("agent-sandbox-system"),
  ),
  poolNamespaces: Config.string("AGENT_SANDBOX_SYNC_NAMESPACES").pipe(Config.withDefault("")),
  tokenSecret: Config.string("AGENT_SANDBOX_SYNC_TOKEN_SECRET").pipe(
    Config.withDefault("agent-sandbox-sync-token"),
  ),
  host: Config.string("AGENT_SANDBOX_HOST").pipe(Config.withDefault("0.0.0.0")),
  port: Config.port("AGENT_SANDBOX_SYNC_PORT").pipe(Config.withDefault(9004)),
  maxChanges: positive("AGENT_SANDBOX_SYNC_MAX_CHANGES", 10_000),
  heartbeatSeconds: positive("AGENT_SANDBOX_SYNC_HEARTBEAT_SECONDS", 15),
  hubUrl: Config.option(Config.url("AGENT_SANDBOX_SYNC_HUB_URL")),
  hubSilenceSeconds: positive("AGENT_SANDBOX_SYNC_HUB_SILENCE_SECONDS", 60),
  maxBackoffSeconds: positive("AGENT_SANDBOX_SYNC_MAX_BACKOFF_SECONDS", 30),
})

export const layerFromEnv = Layer.effect(
  SyncConfig,
  Effect.flatMap(
    config,
    ({ heartbeatSeconds, hubSilenceSeconds, maxBackoffSeconds, hubUrl, poolNamespaces, ...c }) => {
      // A member without a hub has nothing to follow: refuse to start rather than sit idle.
      if (c.mode === "member" && Option.isNone(hubUrl)) {
        return Either.left(
          ConfigError.MissingData(["AGENT_SANDBOX_SYNC_HUB_URL"], "a sync member needs its hub's URL"),
        )
      }
      return Either.right({
        ...c,
        poolNamespaces: commaList(poolNamespaces),
        hubUrl: Option.match(hubUrl, {
          onNone: () => "",
          onSome: (url) => url.toString().replace(/\/+$/, ""),
        }),
        heartbeat: Duration.seconds(heartbeatSeconds),
        hubSilence: Duration.seconds(hubSilenceSeconds),
        maxBackoff: Duration.seconds(maxBackoffSeconds),
      } satisfies SyncConfigShape)
    },
  ),
)

export const layer = (value: SyncConfigShape) => Layer.succeed(SyncConfig, value)
