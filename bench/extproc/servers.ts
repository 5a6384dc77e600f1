/**
 * The bench's processes besides Envoy, each in its own process so that none takes CPU from the load
 * generator: `upstream <port>` answers every request 204 (it stands in for a cluster's E2B port);
 * `extproc <port> <upstream>` is the extproc's ExternalProcessor alone, with this cluster `a` whose
 * upstream is the stand-in (the routing path is the one the extproc process runs; no Kubernetes).
 */
import { createServer } from "node:http"
import type { SandboxIdFormat } from "@agent-sandbox/domain"
import { ClusterTable, ExtProcServer, LocalSandboxes, Responses, RouteState } from "@agent-sandbox/extproc"
import { NodeRuntime } from "@effect/platform-node"
import { Layer } from "effect"

const [role, port, upstream] = process.argv.slice(2)

if (role === "upstream") {
  createServer((_, res) => {
    res.statusCode = 204
    res.end()
  }).listen(Number(port), "127.0.0.1")
} else if (role === "extproc") {
  ExtProcServer.layer({
    host: "127.0.0.1",
    port: Number(port),
    decision: { domain: "sandbox.test", staleAfterMillis: 60_000 },
    headers: Responses.defaultHeaderNames,
  }).pipe(
    Layer.provide(
      RouteState.layer({
        initial: ClusterTable.make("a" as SandboxIdFormat.ClusterTag, upstream ?? ""),
        maxActivity: 100_000,
      }),
    ),
    // The bench routes envd requests only: no sandbox ports.
    Layer.provide(LocalSandboxes.layerFrom(() => undefined)),
    Layer.launch,
    NodeRuntime.runMain,
  )
}
