/**
 * What the E2B data plane hands a node agent with each request it forwards: which sandbox the
 * request may reach (its Pod by namespace, name and uid, its container by name and by the id the
 * server confirmed, its env) until when,
 * signed with HMAC-SHA256 under a key the server and the agents share. The agent serves only what
 * a valid, unexpired grant names, so it needs no API-server access to decide, and nothing the
 * caller sends can widen it (the access token was checked by the server before it signed).
 *
 * Wire form: SignedGrant.
 */
import { Schema } from "effect"
import type { SandboxTarget } from "./SandboxTarget.ts"
import * as SignedGrant from "./SignedGrant.ts"

export const headerName = "x-agent-sandbox-grant"

export class Grant extends Schema.Class<Grant>("Grant")({
  sandboxId: Schema.String,
  namespace: Schema.String,
  pod: Schema.String,
  podUid: Schema.String,
  container: Schema.String,
  /** The container's runtime id as the server last confirmed it: the agent refuses any other. */
  containerId: Schema.String,
  envs: Schema.Record({ key: Schema.String, value: Schema.String }),
  /** Unix milliseconds after which the grant is refused. */
  expiresAt: Schema.Number,
}) {}

const decodePayload = Schema.decodeUnknownEither(Schema.parseJson(Grant))

export const sign = (key: Uint8Array, grant: Grant): string => SignedGrant.sign(key, grant)

export type Refusal = SignedGrant.Refusal

export const verify = SignedGrant.verifier(decodePayload)

/** Where the granted request's commands run. */
export const targetOf = (grant: Grant): SandboxTarget => ({
  namespace: grant.namespace,
  pod: grant.pod,
  podUid: grant.podUid,
  container: grant.container,
  containerId: grant.containerId,
  envs: grant.envs,
})
