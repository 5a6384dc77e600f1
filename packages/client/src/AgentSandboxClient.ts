import { SandboxApi } from "@agent-sandbox/domain/api"
import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { Context, Effect, Layer } from "effect"
import * as ClientConfig from "./ClientConfig.ts"

/** Builds the typed REST client from the domain's HttpApi: one method per endpoint, typed errors. */
export const make = (config: ClientConfig.ClientConfig) =>
  HttpApiClient.make(SandboxApi, {
    baseUrl: ClientConfig.trimmedBaseUrl(config),
    transformClient: HttpClient.mapRequest(
      HttpClientRequest.setHeader("x-api-key", ClientConfig.apiKeyOf(config)),
    ),
  })

export type AgentSandboxClientShape = Effect.Effect.Success<ReturnType<typeof make>>

/**
 * The REST API for Effect programs: `client.sandboxes.create({ payload })`, `client.keys.listKeys()`...
 * Failures are the domain's tagged errors (plus HttpClientError and ParseError for transport).
 */
export class AgentSandboxClient extends Context.Tag("@agent-sandbox/client/AgentSandboxClient")<
  AgentSandboxClient,
  AgentSandboxClientShape
>() {}

/** Over the platform's fetch (Node, Deno, Bun, browsers); interruption aborts the request. */
export const layer = (config: ClientConfig.ClientConfig): Layer.Layer<AgentSandboxClient> =>
  Layer.effect(AgentSandboxClient, make(config)).pipe(Layer.provide(FetchHttpClient.layer))

/** With AGENT_SANDBOX_URL and AGENT_SANDBOX_API_KEY. */
export const layerConfig = (
  config: typeof ClientConfig.fromEnv = ClientConfig.fromEnv,
): Layer.Layer<AgentSandboxClient, import("effect/ConfigError").ConfigError> =>
  Layer.unwrapEffect(Effect.map(config, layer))
