/**
 * The static config file (AGENT_SANDBOX_EXTPROC_CONFIG; the chart writes it from its values): other
 * clusters known from the start and pinned routes. A static cluster is live until it reports once;
 * from then on its reports must keep coming like any registered cluster's.
 *
 *   clusters:
 *     - name: west
 *       gateway: 10.0.8.4:10000
 *       capacity: [{ template: base, warm: 4 }]   # optional, until it reports
 *   routes:
 *     - sandboxId: oldid0123456789abcdef
 *       cluster: west
 */
import { SandboxIdFormat } from "@agent-sandbox/domain"
import { Effect, Schema } from "effect"
import * as Yaml from "yaml"
import type * as ClusterTable from "./ClusterTable.ts"
import { ExtprocError } from "./ExtprocError.ts"
import * as Gateway from "./Gateway.ts"

export const StaticConfig = Schema.Struct({
  clusters: Schema.optionalWith(
    Schema.Array(
      Schema.Struct({
        name: SandboxIdFormat.ClusterTag,
        gateway: Schema.String,
        capacity: Schema.optionalWith(
          Schema.Array(Schema.Struct({ template: Schema.String, warm: Schema.NonNegativeInt })),
          { default: () => [] },
        ),
      }),
    ),
    { default: () => [] },
  ),
  routes: Schema.optionalWith(
    Schema.Array(Schema.Struct({ sandboxId: Schema.String, cluster: SandboxIdFormat.ClusterTag })),
    { default: () => [] },
  ),
})
export type StaticConfig = typeof StaticConfig.Type

export const parse = (text: string, source: string): Effect.Effect<StaticConfig, ExtprocError> =>
  Effect.try({
    try: () => Yaml.parse(text) ?? {},
    catch: (cause) => new ExtprocError({ reason: "Config", message: `${source}: not YAML: ${cause}` }),
  }).pipe(
    Effect.flatMap(Schema.decodeUnknown(StaticConfig, { onExcessProperty: "error" })),
    Effect.mapError((error) =>
      error instanceof ExtprocError
        ? error
        : new ExtprocError({ reason: "Config", message: `${source}: ${error.message}` }),
    ),
  )

/** The static clusters with their gateways resolved (a name that does not resolve fails the start). */
export const clusters = (
  config: StaticConfig,
): Effect.Effect<ReadonlyArray<ClusterTable.ClusterEntry>, ExtprocError> =>
  Effect.forEach(config.clusters, (cluster) =>
    Effect.map(Gateway.resolve(cluster.gateway), (gateway) => ({
      name: cluster.name,
      gateway,
      capacity: cluster.capacity,
      lastReport: undefined,
    })),
  )
