import { Config, Context, Effect, Layer, Redacted } from "effect"
import * as AcceptedGrants from "./AcceptedGrants.ts"

/** Everything the node agent is told from outside, read once at the edge. */
export interface NodeAgentConfigShape {
  /** The node this agent serves (the downward API's spec.nodeName). */
  readonly nodeName: string
  /** Where the operator keeps its objects: the agents' Leases live there. */
  readonly systemNamespace: string
  /** The one address to listen on (the node's or Pod's IP it is told; never all interfaces by default). */
  readonly host: string
  readonly port: number
  /** What the data plane dials (default http://host:port). */
  readonly advertisedAddress: string
  /** The container runtime's CRI socket. */
  readonly criSocket: string
  /** The sandbox-enter helper binary. */
  readonly helper: string
  /** Where the containers' entered processes listen (a directory the agent alone uses). */
  readonly socketDir: string
  /** A container's entered process is stopped after this long without a command. */
  readonly enteredIdleSeconds: number
  /** The key grants are signed with (shared with the E2B server). */
  readonly grantKey: Uint8Array
  readonly leaseDurationSeconds: number
  /** Unexpired scrub grants remembered at once (each is accepted once); more are refused (429). */
  readonly maxScrubGrants: number
}

export class NodeAgentConfig extends Context.Tag("@agent-sandbox/node-agent/NodeAgentConfig")<
  NodeAgentConfig,
  NodeAgentConfigShape
>() {}

const config = Config.all({
  nodeName: Config.string("AGENT_SANDBOX_NODE_NAME"),
  systemNamespace: Config.string("AGENT_SANDBOX_SYSTEM_NAMESPACE").pipe(
    Config.withDefault("agent-sandbox-system"),
  ),
  host: Config.string("AGENT_SANDBOX_NODE_AGENT_HOST").pipe(Config.withDefault("127.0.0.1")),
  port: Config.port("AGENT_SANDBOX_NODE_AGENT_PORT").pipe(Config.withDefault(8093)),
  advertisedAddress: Config.option(Config.string("AGENT_SANDBOX_NODE_AGENT_ADDRESS")),
  criSocket: Config.string("AGENT_SANDBOX_CRI_SOCKET").pipe(
    Config.withDefault("/run/containerd/containerd.sock"),
  ),
  helper: Config.string("AGENT_SANDBOX_NODE_AGENT_HELPER").pipe(
    Config.withDefault("/usr/local/bin/sandbox-enter"),
  ),
  socketDir: Config.string("AGENT_SANDBOX_NODE_AGENT_SOCKET_DIR").pipe(
    Config.withDefault("/run/agent-sandbox-node-agent"),
  ),
  enteredIdleSeconds: Config.integer("AGENT_SANDBOX_NODE_AGENT_IDLE_SECONDS").pipe(Config.withDefault(600)),
  grantKey: Config.redacted("AGENT_SANDBOX_NODE_AGENT_GRANT_KEY"),
  leaseDurationSeconds: Config.integer("AGENT_SANDBOX_NODE_AGENT_LEASE_SECONDS").pipe(Config.withDefault(15)),
  maxScrubGrants: Config.integer("AGENT_SANDBOX_NODE_AGENT_MAX_SCRUB_GRANTS").pipe(
    Config.validate({ message: "must be 1 or more", validation: (n) => n >= 1 }),
    Config.withDefault(AcceptedGrants.defaultCapacity),
  ),
})

export const layerFromEnv = Layer.effect(
  NodeAgentConfig,
  Effect.map(config, ({ advertisedAddress, grantKey, ...c }) => ({
    ...c,
    advertisedAddress:
      advertisedAddress._tag === "Some" ? advertisedAddress.value : `http://${c.host}:${c.port}`,
    grantKey: Buffer.from(Redacted.value(grantKey), "base64"),
  })),
)

export const layer = (value: NodeAgentConfigShape) => Layer.succeed(NodeAgentConfig, value)
