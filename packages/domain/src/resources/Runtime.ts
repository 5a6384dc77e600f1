import { Schema } from "effect"
import { listMap } from "../crd/KubeExtensions.ts"
import { DnsLabel } from "./Names.ts"

export const EnvVar = Schema.Struct({
  name: Schema.String.pipe(Schema.minLength(1), Schema.pattern(/^[-._a-zA-Z][-._a-zA-Z0-9]*$/)).annotations({
    description: "The environment variable's name.",
  }),
  value: Schema.optionalWith(Schema.String, { exact: true, default: () => "" }).annotations({
    description: "The environment variable's value (default: empty).",
  }),
}).annotations({ description: "An environment variable set in the sandbox container." })
export type EnvVar = typeof EnvVar.Type

/**
 * A named image a request can ask for ("python", "node-22"): an allocation swaps the sandbox
 * container's image for it in place, so the warm Pod keeps its node, IP and volumes.
 */
export const Runtime = Schema.Struct({
  name: DnsLabel.annotations({
    description:
      "The runtime's name, as requests refer to it (a lowercase RFC 1123 label, unique in the template).",
  }),
  image: Schema.String.pipe(Schema.minLength(1)).annotations({
    description: "The image the sandbox container runs for this runtime.",
  }),
  port: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 65535)), { exact: true }).annotations({
    description:
      "The port the runtime serves on, if any (1-65535), for clients to know; a running Pod's ports cannot change, so it opens nothing by itself.",
  }),
  env: Schema.optionalWith(Schema.Array(EnvVar).pipe(listMap("name")), { exact: true }).annotations({
    description:
      "Environment variables of this runtime, keyed by name. A running Pod's container env cannot change, so they are kept with the sandbox for the data plane to give every process it starts there; the image's own entrypoint does not see them.",
  }),
  readinessProbe: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.Unknown }), {
    exact: true,
  }).annotations({
    description:
      "A core/v1 Probe for this runtime. Not applied: a running Pod's probes cannot change, so after a switch to this runtime the sandbox is Ready by the sandbox container's own readiness probe (the template's).",
  }),
}).annotations({ description: "A named image the sandbox container can run, selectable per request." })
export type Runtime = typeof Runtime.Type
