/**
 * What the operator's side hands a node agent to have a recycled Pod's own state cleared (its
 * /dev/shm and SysV IPC objects): which Pod (namespace, name, uid), which container of it by name
 * and by the runtime id the recycle's restart started, until when; signed with HMAC-SHA256 under
 * the key envd grants use (see NodeAgentGrant), so an agent needs no API-server access to decide.
 * Its payload carries `purpose`, which an envd grant lacks, and lacks an envd grant's sandbox and
 * env: neither decodes as the other, so one can never be used for the other's request.
 *
 * Wire form: SignedGrant.
 */
import { Schema } from "effect"
import * as SignedGrant from "./SignedGrant.ts"

export const headerName = "x-agent-sandbox-scrub-grant"

/** Where a node agent takes scrub requests (POST). */
export const path = "/agent/scrub-pod-state"

export class ScrubGrant extends Schema.Class<ScrubGrant>("ScrubGrant")({
  purpose: Schema.Literal("scrub-pod-state"),
  namespace: Schema.String,
  pod: Schema.String,
  podUid: Schema.String,
  container: Schema.String,
  /** The container the recycle's restart started: the agent refuses to act on any other. */
  containerId: Schema.String,
  /** Unix milliseconds after which the grant is refused. */
  expiresAt: Schema.Number,
}) {}

const decodePayload = Schema.decodeUnknownEither(Schema.parseJson(ScrubGrant))

export const sign = (key: Uint8Array, grant: ScrubGrant): string => SignedGrant.sign(key, grant)

export type Refusal = SignedGrant.Refusal

export const verify = SignedGrant.verifier(decodePayload)
