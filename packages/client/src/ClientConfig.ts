import { Config, Redacted } from "effect"

/** Where the API is and the key to use; the same for REST, RPC and the CLI. */
export interface ClientConfig {
  /** e.g. http://127.0.0.1:8080 (no trailing path). */
  readonly baseUrl: string
  readonly apiKey: Redacted.Redacted<string> | string
}

/** AGENT_SANDBOX_URL (default http://127.0.0.1:8080) and AGENT_SANDBOX_API_KEY. */
export const fromEnv: Config.Config<ClientConfig> = Config.all({
  baseUrl: Config.string("AGENT_SANDBOX_URL").pipe(Config.withDefault("http://127.0.0.1:8080")),
  apiKey: Config.redacted("AGENT_SANDBOX_API_KEY"),
})

export const apiKeyOf = (config: ClientConfig): string =>
  typeof config.apiKey === "string" ? config.apiKey : Redacted.value(config.apiKey)

export const trimmedBaseUrl = (config: ClientConfig): string => config.baseUrl.replace(/\/+$/, "")
