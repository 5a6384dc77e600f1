/**
 * The node agent: envd (packages/envd's Connect services, /files, /health) for the sandboxes on
 * this node, each request carrying a grant the E2B server signed (see envd's NodeAgentGrant), its
 * programs run in the sandbox's container through NamespaceShell. It announces itself with a
 * Lease (AgentLease) once it listens.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import { EnvdHandler, NodeAgentGrant, SandboxTarget } from "@agent-sandbox/envd"
import type { KubeClient, KubeError } from "@agent-sandbox/kube"
import { Clock, Effect, Either, Layer, Runtime } from "effect"
import * as AcceptedGrants from "./AcceptedGrants.ts"
import * as AgentLease from "./AgentLease.ts"
import * as CriRuntime from "./CriRuntime.ts"
import * as EnteredProcesses from "./EnteredProcesses.ts"
import * as NamespaceShell from "./NamespaceShell.ts"
import { NodeAgentConfig } from "./NodeAgentConfig.ts"
import * as SandboxContainers from "./SandboxContainers.ts"
import * as ScrubEndpoint from "./ScrubEndpoint.ts"

/** The agent's own liveness, outside envd's paths. */
export const healthPath = "/agent/healthz"

/**
 * The target of a request with a valid grant, once its container is the one the grant names (the
 * server may sign from a confirmation it made earlier: a container restarted since, as a recycle
 * for another tenant restarts it, is refused, whatever the request would do there).
 */
const grantOf =
  (key: Uint8Array, containers: SandboxContainers.SandboxContainersShape): SandboxTarget.ResolveSandbox =>
  (request) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const header = request.headers[NodeAgentGrant.headerName]
      const verified = NodeAgentGrant.verify(key, Array.isArray(header) ? header[0] : header, now)
      if (Either.isLeft(verified)) {
        return Effect.fail(
          new SandboxTarget.SandboxResolveError({
            reason: "Forbidden",
            message: `the node agent serves only requests the E2B server granted: grant ${verified.left}`,
          }),
        )
      }
      const target = NodeAgentGrant.targetOf(verified.right)
      return containers.locate(target).pipe(
        Effect.as(target),
        Effect.mapError(
          (error) => new SandboxTarget.SandboxResolveError({ reason: "Unavailable", message: error.message }),
        ),
      )
    })

const listen = (server: Server, port: number, host: string) =>
  Effect.acquireRelease(
    Effect.async<void, Error>((resume) => {
      const onError = (error: Error) => resume(Effect.fail(error))
      server.once("error", onError)
      server.listen(port, host, () => {
        server.off("error", onError)
        resume(Effect.void)
      })
    }),
    () =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
        server.closeAllConnections()
      }),
  )

const serve = Layer.scopedDiscard(
  Effect.gen(function* () {
    const config = yield* NodeAgentConfig
    const containers = yield* SandboxContainers.SandboxContainers
    const envd = yield* EnvdHandler.make({ resolveSandbox: grantOf(config.grantKey, containers) })
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())
    const acceptedScrubGrants = AcceptedGrants.make(config.maxScrubGrants)
    const route = (req: IncomingMessage, res: ServerResponse) => {
      if (req.url === healthPath) {
        res.writeHead(200, { "content-type": "text/plain" }).end("ok")
      } else if (req.url === ScrubEndpoint.path) {
        runFork(ScrubEndpoint.handle(config.grantKey, acceptedScrubGrants, containers, req, res))
      } else {
        envd(req, res)
      }
    }
    // As the E2B server: a client-streamed input lasts as long as it lasts.
    const server = createServer({ requestTimeout: 0, keepAliveTimeout: 65_000 }, route)
    yield* listen(server, config.port, config.host)
    yield* Effect.logInfo(`node agent for ${config.nodeName} listening on ${config.host}:${config.port}`)
    yield* AgentLease.keepRenewed
  }),
)

/** The agent, given its configuration and a Kubernetes client (for its Lease). */
export const layer: Layer.Layer<never, Error | KubeError.KubeError, NodeAgentConfig | KubeClient.KubeClient> =
  Layer.unwrapEffect(
    Effect.map(NodeAgentConfig, (config) =>
      serve.pipe(
        Layer.provide(EnvdHandler.layerServices()),
        Layer.provide(NamespaceShell.layer),
        Layer.provide(Layer.merge(SandboxContainers.layer, EnteredProcesses.layer)),
        Layer.provide(CriRuntime.layer(config.criSocket)),
      ),
    ),
  )
