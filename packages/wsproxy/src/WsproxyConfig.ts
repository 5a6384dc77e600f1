import { Config, Context, Duration, Effect, Layer, Option } from "effect"

/** Everything the wsproxy process is told from outside, read once at the edge. */
export interface WsproxyConfigShape {
  /** Where the terminal-token key Secret lives (the operator's system namespace). */
  readonly systemNamespace: string
  readonly host: string
  /** The terminal WebSocket and the page. */
  readonly port: number
  /** The REST API the page lists sandboxes and asks for terminal tokens through. */
  readonly apiUrl: string
  /**
   * Origins a browser may open terminals from; empty: only the page's own origin (the Host the
   * request was sent to). Requests without an Origin (not a browser) are not checked.
   */
  readonly allowedOrigins: ReadonlyArray<string>
  /** Terminals open at once in one sandbox (per wsproxy replica). */
  readonly maxSessionsPerSandbox: number
  /** A terminal with no input nor output for this long is closed. */
  readonly idleTimeout: Duration.Duration
  /** A folder holding the page's files (the image's); undefined: where they lie in the checkout. */
  readonly pageFolder?: string | undefined
  /** How often the browser is pinged; one that misses a pong by the next ping is dropped. */
  readonly pingInterval: Duration.Duration
}

export class WsproxyConfig extends Context.Tag("@agent-sandbox/wsproxy/WsproxyConfig")<
  WsproxyConfig,
  WsproxyConfigShape
>() {}

const positive = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.validate({ message: "must be a positive integer", validation: (n) => n > 0 }),
    Config.withDefault(fallback),
  )

const config = Config.all({
  systemNamespace: Config.string("AGENT_SANDBOX_SYSTEM_NAMESPACE").pipe(
    Config.withDefault("agent-sandbox-system"),
  ),
  host: Config.string("AGENT_SANDBOX_HOST").pipe(Config.withDefault("0.0.0.0")),
  port: Config.port("AGENT_SANDBOX_WSPROXY_PORT").pipe(Config.withDefault(9003)),
  apiUrl: Config.string("AGENT_SANDBOX_WSPROXY_API_URL").pipe(Config.withDefault("http://127.0.0.1:8080")),
  allowedOrigins: Config.option(Config.string("AGENT_SANDBOX_WSPROXY_ALLOWED_ORIGINS")),
  pageFolder: Config.option(Config.string("AGENT_SANDBOX_WSPROXY_PAGE_DIR")),
  maxSessionsPerSandbox: positive("AGENT_SANDBOX_WSPROXY_MAX_SESSIONS_PER_SANDBOX", 4),
  idleTimeoutSeconds: positive("AGENT_SANDBOX_WSPROXY_IDLE_TIMEOUT_SECONDS", 900),
  pingIntervalSeconds: positive("AGENT_SANDBOX_WSPROXY_PING_INTERVAL_SECONDS", 20),
})

/** A comma-separated list; blanks dropped. */
export const parseOrigins = (list: string): ReadonlyArray<string> =>
  list
    .split(",")
    .map((origin) => origin.trim())
    .filter((origin) => origin !== "")

export const layerFromEnv = Layer.effect(
  WsproxyConfig,
  Effect.map(config, ({ idleTimeoutSeconds, pingIntervalSeconds, allowedOrigins, pageFolder, ...c }) => ({
    ...c,
    pageFolder: Option.getOrUndefined(pageFolder),
    apiUrl: c.apiUrl.replace(/\/+$/, ""),
    allowedOrigins: Option.match(allowedOrigins, { onNone: () => [], onSome: parseOrigins }),
    idleTimeout: Duration.seconds(idleTimeoutSeconds),
    pingInterval: Duration.seconds(pingIntervalSeconds),
  })),
)

export const layer = (value: WsproxyConfigShape) => Layer.succeed(WsproxyConfig, value)
