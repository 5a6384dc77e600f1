import {
  ApiKeyInfo,
  CreatedApiKey,
  type ExecChunk,
  PoolScale,
  PoolSummary,
  Sandbox,
} from "@agent-sandbox/domain/api"
import { Args, Command, Options } from "@effect/cli"
import { Config, Console, Effect, Option, type Redacted, Schema, Stream } from "effect"
import * as AgentSandboxClient from "../AgentSandboxClient.ts"
import type { ClientConfig } from "../ClientConfig.ts"
import * as SandboxRpcClient from "../SandboxRpcClient.ts"
import * as Output from "./Output.ts"

const url = Options.text("url").pipe(
  Options.withDescription("The API's base URL (env AGENT_SANDBOX_URL)"),
  Options.withFallbackConfig(Config.string("AGENT_SANDBOX_URL")),
  Options.withDefault("http://127.0.0.1:8080"),
)
const apiKey = Options.redacted("api-key").pipe(
  Options.withDescription("The API key (env AGENT_SANDBOX_API_KEY)"),
  Options.withFallbackConfig(Config.redacted("AGENT_SANDBOX_API_KEY")),
)
const output = Options.choice("output", ["table", "json"]).pipe(
  Options.withAlias("o"),
  Options.withDescription("How to print results"),
  Options.withDefault("table" as const),
)

export const root = Command.make("agent-sandbox", { url, apiKey, output })

const configOf = (global: {
  readonly url: string
  readonly apiKey: Redacted.Redacted<string>
}): ClientConfig => ({
  baseUrl: global.url,
  apiKey: global.apiKey,
})

/** Runs `body` with the REST client and prints what it returns. */
const withClient = <A, E>(
  body: (client: AgentSandboxClient.AgentSandboxClientShape) => Effect.Effect<A, E>,
  print: (result: A, format: Output.OutputFormat) => string,
) =>
  Effect.gen(function* () {
    const global = yield* root
    const result = yield* Effect.flatMap(AgentSandboxClient.AgentSandboxClient, body).pipe(
      Effect.provide(AgentSandboxClient.layer(configOf(global))),
    )
    const text = print(result, global.output)
    if (text !== "") yield* Console.log(text)
  })

const time = (t: { readonly epochMillis: number } | undefined) =>
  t === undefined ? "" : new Date(t.epochMillis).toISOString()

// keys

const keyColumns: ReadonlyArray<Output.Column<ApiKeyInfo>> = [
  { header: "ID", cell: (k) => k.id },
  { header: "TENANT", cell: (k) => k.tenant },
  { header: "ADMIN", cell: (k) => String(k.admin) },
  { header: "CREATED", cell: (k) => time(k.createdAt) },
]

const keysCreate = Command.make(
  "create",
  {
    tenant: Args.text({ name: "tenant" }).pipe(Args.withDescription("The tenant the key acts as")),
    admin: Options.boolean("admin").pipe(Options.withDescription("An admin key (keys, pools, every tenant)")),
  },
  ({ tenant, admin }) =>
    withClient(
      (c) => c.keys.createKey({ payload: { tenant, admin } }),
      (key, format) =>
        format === "json"
          ? JSON.stringify(Schema.encodeSync(CreatedApiKey)(key), null, 2)
          : `${key.key}\n(shown once: keep it now; id ${key.id}, tenant ${key.tenant}${key.admin ? ", admin" : ""})`,
    ),
).pipe(Command.withDescription("Mint an API key; the key is printed once"))

const keysList = Command.make("list", {}, () =>
  withClient(
    (c) => c.keys.listKeys(),
    (keys, format) =>
      Output.render(format, keyColumns, keys, Schema.encodeSync(Schema.Array(ApiKeyInfo))(keys)),
  ),
).pipe(Command.withDescription("List API keys (never the keys themselves)"))

const keysRevoke = Command.make("revoke", { id: Args.text({ name: "id" }) }, ({ id }) =>
  withClient(
    (c) => c.keys.revokeKey({ path: { id } }),
    (_, format) => (format === "json" ? JSON.stringify({ revoked: id }) : `revoked ${id}`),
  ),
).pipe(Command.withDescription("Revoke an API key by its id"))

const keys = Command.make("keys").pipe(
  Command.withDescription("API keys (admin)"),
  Command.withSubcommands([keysCreate, keysList, keysRevoke]),
)

// pools

const poolColumns: ReadonlyArray<Output.Column<PoolSummary>> = [
  { header: "NAMESPACE", cell: (p) => p.namespace },
  { header: "NAME", cell: (p) => p.name },
  { header: "TEMPLATE", cell: (p) => p.template },
  { header: "REPLICAS", cell: (p) => String(p.replicas) },
  { header: "IDLE", cell: (p) => String(p.idle) },
  { header: "ALLOCATED", cell: (p) => String(p.allocated) },
  { header: "STARTING", cell: (p) => String(p.starting) },
]

const poolsList = Command.make("list", {}, () =>
  withClient(
    (c) => c.pools.listPools(),
    (pools, format) =>
      Output.render(format, poolColumns, pools, Schema.encodeSync(Schema.Array(PoolSummary))(pools)),
  ),
).pipe(Command.withDescription("List sandbox pools and their counts"))

const poolsScale = Command.make(
  "scale",
  {
    pool: Args.text({ name: "namespace/name" }),
    replicas: Options.integer("replicas").pipe(Options.withDescription("The warm idle target")),
  },
  ({ pool, replicas }) => {
    const [namespace, name] = pool.includes("/") ? pool.split("/", 2) : ["default", pool]
    return withClient(
      (c) => c.poolAdmin.scalePool({ path: { namespace: namespace!, name: name! }, payload: { replicas } }),
      (scale, format) =>
        format === "json"
          ? JSON.stringify(Schema.encodeSync(PoolScale)(scale))
          : `${scale.namespace}/${scale.name} scaled to ${scale.replicas}`,
    )
  },
).pipe(Command.withDescription("Set a pool's warm target (admin)"))

const pools = Command.make("pools").pipe(
  Command.withDescription("Sandbox pools"),
  Command.withSubcommands([poolsList, poolsScale]),
)

// sandboxes

const sandboxColumns: ReadonlyArray<Output.Column<Sandbox>> = [
  { header: "ID", cell: (s) => s.id },
  { header: "POOL", cell: (s) => `${s.namespace}/${s.pool}` },
  { header: "TENANT", cell: (s) => s.tenant },
  { header: "READY", cell: (s) => String(s.ready) },
  { header: "IMAGE", cell: (s) => s.image },
  { header: "EXPIRES", cell: (s) => time(s.expiresAt) },
]

const printSandboxes = (sandboxes: ReadonlyArray<Sandbox>, format: Output.OutputFormat) =>
  Output.render(format, sandboxColumns, sandboxes, Schema.encodeSync(Schema.Array(Sandbox))(sandboxes))

const printSandbox = (sandbox: Sandbox, format: Output.OutputFormat) =>
  format === "json"
    ? JSON.stringify(Schema.encodeSync(Sandbox)(sandbox), null, 2)
    : printSandboxes([sandbox], format)

const namespace = Options.text("namespace").pipe(Options.withAlias("n"), Options.optional)
const metadataOption = Options.keyValueMap("metadata").pipe(
  Options.withDescription("key=value kept with the sandbox (repeatable)"),
  Options.optional,
)

const sandboxesCreate = Command.make(
  "create",
  {
    pool: Options.text("pool").pipe(Options.withAlias("p")),
    namespace,
    timeout: Options.integer("timeout").pipe(
      Options.withDescription("Seconds until it expires"),
      Options.optional,
    ),
    image: Options.text("image").pipe(Options.optional),
    runtime: Options.text("runtime").pipe(Options.optional),
    metadata: metadataOption,
  },
  (o) =>
    withClient(
      (c) =>
        c.sandboxes.create({
          payload: {
            pool: o.pool,
            ...Option.match(o.namespace, { onNone: () => ({}), onSome: (namespace) => ({ namespace }) }),
            ...Option.match(o.timeout, {
              onNone: () => ({}),
              onSome: (timeoutSeconds) => ({ timeoutSeconds }),
            }),
            ...Option.match(o.image, { onNone: () => ({}), onSome: (image) => ({ image }) }),
            ...Option.match(o.runtime, { onNone: () => ({}), onSome: (runtime) => ({ runtime }) }),
            ...Option.match(o.metadata, {
              onNone: () => ({}),
              onSome: (m) => ({ metadata: Object.fromEntries(m) }),
            }),
          },
        }),
      printSandbox,
    ),
).pipe(Command.withDescription("Allocate a sandbox from a warm pool"))

const sandboxesList = Command.make(
  "list",
  { namespace, pool: Options.text("pool").pipe(Options.optional) },
  (o) =>
    withClient(
      (c) =>
        Effect.gen(function* () {
          const all: Array<Sandbox> = []
          let cursor: string | undefined
          do {
            const page = yield* c.sandboxes.list({
              urlParams: {
                ...Option.match(o.namespace, { onNone: () => ({}), onSome: (namespace) => ({ namespace }) }),
                ...Option.match(o.pool, { onNone: () => ({}), onSome: (pool) => ({ pool }) }),
                ...(cursor === undefined ? {} : { cursor }),
                limit: 1000,
              },
            })
            all.push(...page.items)
            cursor = page.nextCursor
          } while (cursor !== undefined)
          return all
        }),
      printSandboxes,
    ),
).pipe(Command.withDescription("List your sandboxes (an admin key: everyone's)"))

const id = Args.text({ name: "id" })

const sandboxesGet = Command.make("get", { id }, ({ id }) =>
  withClient((c) => c.sandboxes.get({ path: { id } }), printSandbox),
).pipe(Command.withDescription("Show one sandbox"))

const sandboxesKill = Command.make("kill", { id }, ({ id }) =>
  withClient(
    (c) => c.sandboxes.delete({ path: { id } }),
    (_, format) => (format === "json" ? JSON.stringify({ released: id }) : `released ${id}`),
  ),
).pipe(Command.withDescription("Release a sandbox now"))

/** The command's exit code, for the process to exit with. */
export class CommandExitCode extends Schema.TaggedError<CommandExitCode>()("CommandExitCode", {
  exitCode: Schema.Int,
}) {}

const sandboxesExec = Command.make(
  "exec",
  { id, command: Args.text({ name: "command" }).pipe(Args.atLeast(1)) },
  ({ id, command }) =>
    Effect.gen(function* () {
      const global = yield* root
      const exitCode = yield* Effect.flatMap(SandboxRpcClient.SandboxRpcClient, (rpc) =>
        rpc.exec({ id, command: [command[0]!, ...command.slice(1)] }).pipe(
          Stream.runFoldEffect(0, (code, chunk: ExecChunk) =>
            Effect.sync(() => {
              if (chunk._tag === "Stdout") process.stdout.write(chunk.data)
              else if (chunk._tag === "Stderr") process.stderr.write(chunk.data)
              else {
                if (chunk.message !== undefined) process.stderr.write(`${chunk.message}\n`)
                return chunk.exitCode
              }
              return code
            }),
          ),
        ),
      ).pipe(Effect.provide(SandboxRpcClient.layerHttp(configOf(global))))
      if (exitCode !== 0) return yield* new CommandExitCode({ exitCode })
    }),
).pipe(Command.withDescription("Run a command in a sandbox (argv after --), streaming its output"))

const sandboxes = Command.make("sandboxes").pipe(
  Command.withDescription("Sandboxes"),
  Command.withSubcommands([sandboxesCreate, sandboxesList, sandboxesGet, sandboxesKill, sandboxesExec]),
)

export const command = root.pipe(
  Command.withDescription("Agent Sandbox: API keys, pools and sandboxes"),
  Command.withSubcommands([keys, pools, sandboxes]),
)

export const run = (version: string) => Command.run(command, { name: "agent-sandbox", version })
