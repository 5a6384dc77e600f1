/**
 * The E2B API's JSON, as the published SDKs (npm e2b 2.x, PyPI e2b 2.x) send and read it:
 * request bodies decoded leniently (unknown fields ignored; null as absent), replies built as
 * plain objects with E2B's field names.
 */
import { SandboxMetadata } from "@agent-sandbox/domain"
import { Schema } from "effect"
import type { SandboxSize } from "./SandboxSize.ts"

const optionalNullable = <A, I>(schema: Schema.Schema<A, I>) => Schema.optional(Schema.NullOr(schema))

const Seconds = Schema.Int.pipe(Schema.between(0, 31_536_000))

const EnvVars = Schema.Record({ key: Schema.String, value: Schema.String })

/** `POST /sandboxes` (NewSandbox) and `POST /v2/sandboxes` (NewSandboxV2). */
export const NewSandbox = Schema.Struct({
  templateID: Schema.String,
  timeout: optionalNullable(Seconds),
  metadata: optionalNullable(SandboxMetadata),
  envVars: optionalNullable(EnvVars),
  secure: optionalNullable(Schema.Boolean),
  allow_internet_access: optionalNullable(Schema.Boolean),
  autoPause: optionalNullable(Schema.Boolean),
  autoPauseMemory: optionalNullable(Schema.Boolean),
  autoResume: optionalNullable(Schema.Struct({ enabled: optionalNullable(Schema.Boolean) })),
  mcp: Schema.optional(Schema.Unknown),
  network: Schema.optional(Schema.Unknown),
  iam: Schema.optional(Schema.Unknown),
  volumeMounts: optionalNullable(Schema.Array(Schema.Unknown)),
})
export type NewSandbox = typeof NewSandbox.Type

/** `POST /sandboxes/{id}/connect` (timeout required there) and `/v2/…/connect`. */
export const ConnectSandbox = Schema.Struct({
  timeout: optionalNullable(Seconds),
  memory: optionalNullable(Schema.Boolean),
})

/** `POST /sandboxes/{id}/timeout`. */
export const SandboxTimeoutRequest = Schema.Struct({ timeout: Seconds })

/** `POST /sandboxes/{id}/refreshes`. */
export const SandboxRefreshRequest = Schema.Struct({ duration: optionalNullable(Seconds) })

const present = (value: unknown): boolean =>
  value !== undefined &&
  value !== null &&
  !(typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0)

/** The create options this server cannot honour, named for the error message. */
export const unsupportedOptions = (body: NewSandbox): ReadonlyArray<string> => [
  ...(body.autoPause === true ? ["autoPause (pausing)"] : []),
  ...(body.autoResume?.enabled === true ? ["autoResume"] : []),
  ...(body.allow_internet_access === false ? ["allow_internet_access: false (egress control)"] : []),
  ...(present(body.network) ? ["network"] : []),
  ...(present(body.mcp) ? ["mcp"] : []),
  ...(present(body.iam) ? ["iam"] : []),
  ...((body.volumeMounts?.length ?? 0) > 0 ? ["volumeMounts"] : []),
]

/** Environment variable names a shell accepts (envd passes them to `env`). */
export const invalidEnvVarName = (envVars: Readonly<Record<string, string>>): string | undefined =>
  Object.keys(envVars).find((name) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))

/** What every reply about one sandbox is made from. */
export interface E2bSandbox {
  readonly sandboxId: string
  readonly templateId: string
  /** The pool's name (E2B's template alias). */
  readonly alias: string
  /** The Pod serving the sandbox (E2B's client id names the machine). */
  readonly clientId: string
  readonly startedAt: number
  readonly endAt: number
  readonly size: SandboxSize
  readonly metadata: Readonly<Record<string, string>>
  readonly envdVersion: string
  readonly domain: string | null
  /** Absent for sandboxes not made through this API (they have no envd access). */
  readonly envdAccessToken: string | undefined
}

/** Reply of create and connect (E2B's `Sandbox`). */
export const sandbox = (s: E2bSandbox) => ({
  sandboxID: s.sandboxId,
  templateID: s.templateId,
  alias: s.alias,
  clientID: s.clientId,
  envdVersion: s.envdVersion,
  ...(s.envdAccessToken === undefined ? {} : { envdAccessToken: s.envdAccessToken }),
  trafficAccessToken: null,
  domain: s.domain,
})

/** An item of the lists (E2B's `ListedSandbox`). */
export const listedSandbox = (s: E2bSandbox) => ({
  sandboxID: s.sandboxId,
  templateID: s.templateId,
  alias: s.alias,
  clientID: s.clientId,
  startedAt: new Date(s.startedAt).toISOString(),
  endAt: new Date(s.endAt).toISOString(),
  cpuCount: s.size.cpuCount,
  memoryMB: s.size.memoryMB,
  diskSizeMB: s.size.diskSizeMB,
  metadata: s.metadata,
  state: "running" as const,
  envdVersion: s.envdVersion,
  volumeMounts: [],
})

/** `GET /sandboxes/{id}` (E2B's `SandboxDetail`). */
export const sandboxDetail = (s: E2bSandbox) => ({
  ...listedSandbox(s),
  ...(s.envdAccessToken === undefined ? {} : { envdAccessToken: s.envdAccessToken }),
  domain: s.domain,
  allowInternetAccess: null,
})
