import { Schema } from "effect"

export class TerminalGrant extends Schema.Class<TerminalGrant>("TerminalGrant")({
  token: Schema.String.annotations({
    description:
      "Opens one terminal in the sandbox through wsproxy (:9003), once, until expiresAt: `GET <path>?token=<token>` as a WebSocket.",
  }),
  path: Schema.String.annotations({ description: "wsproxy's WebSocket path for this sandbox's terminal." }),
  expiresAt: Schema.DateTimeUtc,
}) {}
