/**
 * The extproc process as one Layer: the route state (this cluster, the static config), the
 * ExternalProcessor on :9002, the route control plane on :9003, this cluster's capacity from its
 * pools (reported to the peers), and its sandboxes (for `<port>-<id>`: LocalSandboxes), the last two
 * over one pool watch (LocalPools). Needs an ExtprocConfig and a KubeClient.
 */
import { readFile } from "node:fs/promises"
import type { KubeClient } from "@agent-sandbox/kube"
import { Duration, Effect, Layer } from "effect"
import * as ClusterTable from "./ClusterTable.ts"
import * as ExtProcServer from "./ExtProcServer.ts"
import { ExtprocConfig } from "./ExtprocConfig.ts"
import { ExtprocError } from "./ExtprocError.ts"
import * as Gateway from "./Gateway.ts"
import * as LocalCapacity from "./LocalCapacity.ts"
import * as LocalPools from "./LocalPools.ts"
import * as LocalSandboxes from "./LocalSandboxes.ts"
import * as Responses from "./Responses.ts"
import * as RouteControlServer from "./RouteControlServer.ts"
import * as RouteState from "./RouteState.ts"
import * as StaticConfig from "./StaticConfig.ts"

const initialTable = Effect.gen(function* () {
  const config = yield* ExtprocConfig
  const localUpstream = yield* Gateway.resolve(config.localUpstream)
  const file = config.configFile
  const fromFile =
    file === undefined
      ? { clusters: [], routes: [] }
      : yield* Effect.tryPromise({
          try: () => readFile(file, "utf8"),
          catch: (cause) => new ExtprocError({ reason: "Config", message: `${file}: ${cause}` }),
        }).pipe(Effect.flatMap((text) => StaticConfig.parse(text, file)))
  const others = yield* StaticConfig.clusters(fromFile)
  return fromFile.routes.reduce(
    (table, route) => ClusterTable.pushRoute(table, route.sandboxId, route.cluster),
    ClusterTable.make(config.cluster, localUpstream, others),
  )
})

export const layer: Layer.Layer<
  ExtProcServer.ExtProcServer | RouteControlServer.RouteControlServer | RouteState.RouteState,
  ExtprocError,
  ExtprocConfig | KubeClient.KubeClient
> = Layer.unwrapEffect(
  Effect.gen(function* () {
    const config = yield* ExtprocConfig
    const initial = yield* initialTable
    const servers = Layer.mergeAll(
      ExtProcServer.layer({
        host: config.host,
        port: config.port,
        decision: { domain: config.domain, staleAfterMillis: Duration.toMillis(config.staleAfter) },
        headers: Responses.defaultHeaderNames,
      }),
      RouteControlServer.layer({ host: config.host, port: config.controlPort }),
      LocalCapacity.layer({
        peers: config.peers,
        gateway: config.gateway,
        reportEvery: config.reportEvery,
      }),
    )
    return servers.pipe(
      Layer.provide(
        LocalSandboxes.layer({
          namespace: config.watchNamespace,
          tokenKeyNamespace: config.systemNamespace,
          missLookups: config.missLookups,
        }),
      ),
      // One pool watch for both the capacity and the sandboxes' port access.
      Layer.provide(LocalPools.layer({ namespace: config.watchNamespace })),
      Layer.provideMerge(RouteState.layer({ initial, maxActivity: config.maxActivity })),
    )
  }),
)
