/**
 * What the E2B control plane says about a sandbox, built into the domain's E2B reply schemas
 * (`@agent-sandbox/domain` E2bModels, which also holds the request bodies), and the create
 * options it refuses.
 */
import type { E2bModels } from "@agent-sandbox/domain"
import type { SandboxSize } from "./SandboxSize.ts"

export type NewSandbox = E2bModels.NewSandbox

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
  /** Opens the sandbox's ports where its pool keeps them private (undefined exactly when envdAccessToken is). */
  readonly trafficAccessToken: string | undefined
}

/** Reply of create and connect (E2B's `Sandbox`). */
export const sandbox = (s: E2bSandbox): E2bModels.Sandbox => ({
  sandboxID: s.sandboxId,
  templateID: s.templateId,
  alias: s.alias,
  clientID: s.clientId,
  envdVersion: s.envdVersion,
  ...(s.envdAccessToken === undefined ? {} : { envdAccessToken: s.envdAccessToken }),
  trafficAccessToken: s.trafficAccessToken ?? null,
  domain: s.domain,
})

/** An item of the lists (E2B's `ListedSandbox`). */
export const listedSandbox = (s: E2bSandbox): E2bModels.ListedSandbox => ({
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
  state: "running",
  envdVersion: s.envdVersion,
  volumeMounts: [],
})

/** `GET /sandboxes/{id}` (E2B's `SandboxDetail`). */
export const sandboxDetail = (s: E2bSandbox): E2bModels.SandboxDetail => ({
  ...listedSandbox(s),
  ...(s.envdAccessToken === undefined ? {} : { envdAccessToken: s.envdAccessToken }),
  domain: s.domain,
  allowInternetAccess: null,
})
