/**
 * The E2B-compatible server on one port (:8090): E2B's control plane and envd's data plane
 * together, so an SDK with `E2B_API_URL` and `E2B_SANDBOX_URL` both set to it (or reaching
 * `49983-<id>.<domain>` through an ingress) works unchanged.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import { E2bErrors } from "@agent-sandbox/domain"
import { EnvdHandler, type SandboxTarget } from "@agent-sandbox/envd"
import { Sandboxes } from "@agent-sandbox/operator"
import { HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer, Runtime, Schema } from "effect"
import * as BodyLimit from "../http/BodyLimit.ts"
import * as JsonBody from "../http/JsonBody.ts"
import * as E2bMetrics from "../metrics/E2bMetrics.ts"
import * as RetryAfter from "../RetryAfter.ts"
import { type E2bServerConfig, limitsOf, ServerConfig } from "../ServerConfig.ts"
import * as AccessTokenKey from "./AccessTokenKey.ts"
import * as AgentForward from "./AgentForward.ts"
import * as ConfirmedContainers from "./ConfirmedContainers.ts"
import * as ControlPlane from "./ControlPlane.ts"
import * as E2bSandboxes from "./E2bSandboxes.ts"
import * as NodeAgentGrantKey from "./NodeAgentGrantKey.ts"
import * as NodeAgents from "./NodeAgents.ts"
import * as RequestRouting from "./RequestRouting.ts"
import * as SandboxResolver from "./SandboxResolver.ts"
import * as SignedGrants from "./SignedGrants.ts"

/** Listens until the scope closes; open streams are cut then (a command keeps running in its sandbox). */
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

const encodeTooLarge = Schema.encodeSync(E2bErrors.E2bPayloadTooLarge)
const encodeBadRequest = Schema.encodeSync(E2bErrors.E2bBadRequest)

/** The E2B error for a body that is not JSON. */
const badRequest = (message: string) =>
  HttpServerResponse.unsafeJson(encodeBadRequest(new E2bErrors.E2bBadRequest({ message })), { status: 400 })

const tooLarge = (limitBytes: number) =>
  HttpServerResponse.unsafeJson(
    encodeTooLarge(new E2bErrors.E2bPayloadTooLarge({ message: BodyLimit.message(limitBytes) })),
    {
      status: 413,
      headers: { connection: "close" },
    },
  )

/**
 * Where an envd request goes: to the node agent of the sandbox's node when one is live, else to
 * the envd handler here (exec through the API server). The sandbox is resolved once: the handler
 * reuses what routing resolved, and answers any failure to resolve as it always has.
 */
const makeEnvdRoute = (e2b: E2bServerConfig) =>
  Effect.gen(function* () {
    const config = yield* ServerConfig
    const sandboxes = yield* Sandboxes.Sandboxes
    const { current } = yield* AccessTokenKey.AccessTokenKey
    const limits = limitsOf(config)
    const authorize = SandboxResolver.makeAuthorize({ sandboxes, tokenKeys: current, config })
    const resolve = SandboxResolver.make({ sandboxes, tokenKeys: current, config })
    const resolved = new WeakMap<SandboxTarget.EnvdRequest, SandboxResolver.ResolvedTarget>()
    const envd = yield* EnvdHandler.make({
      resolveSandbox: (request) => {
        const known = resolved.get(request)
        return known !== undefined ? Effect.succeed(known) : resolve(request)
      },
      readMaxBytes: limits.maxConnectMessageBytes,
      maxUploadBytes: limits.maxUploadBytes,
      maxListDepth: limits.maxListDepth,
    })
    if (e2b.nodeAgents === undefined)
      return (req: IncomingMessage, res: ServerResponse, _path: string) => envd(req, res)
    const grantMillis = e2b.nodeAgents.grantSeconds * 1000
    const confirmMillis = e2b.nodeAgents.confirmSeconds * 1000
    const confirmed = ConfirmedContainers.make(e2b.nodeAgents.maxConfirmed)
    const agents = yield* NodeAgents.NodeAgents
    const { key: grantKey } = yield* NodeAgentGrantKey.NodeAgentGrantKey
    const grantHeader = SignedGrants.make(grantKey, grantMillis)
    const forwarder = AgentForward.make()
    yield* Effect.addFinalizer(() => Effect.sync(() => forwarder.close()))
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())
    const clock = yield* Effect.clock
    /** The container a fresh read (this one, or a recent one that still stands) found the sandbox in. */
    const confirmedContainer = (authorized: SandboxResolver.Authorized, now: number) => {
      const { sandboxId, podUid } = authorized.target
      const earlier = confirmed.get(sandboxId)
      const cached = { podUid, containerId: authorized.cachedContainerId }
      if (ConfirmedContainers.reusable(earlier, cached, now, confirmMillis))
        return Effect.succeed<string | undefined>(earlier.containerId)
      confirmed.forget(sandboxId)
      return Effect.map(authorized.confirm, ({ containerId }) => {
        if (containerId !== undefined) confirmed.set(sandboxId, { podUid, containerId, at: now })
        return containerId
      })
    }
    // Plain steps per request (one fiber, no generator): this runs for every envd call.
    return (req: IncomingMessage, res: ServerResponse, path: string) => {
      runFork(
        Effect.flatMap(authorize(req), (authorized) => {
          const { target } = authorized
          const local = Effect.map(authorized.confirm, () => {
            resolved.set(req, target)
            envd(req, res)
          })
          // /health only says the sandbox is known and live: answered here, it also tells an SDK
          // whose stream broke that the sandbox is still there when only its agent went away.
          if (path === "/health" || target.node === undefined) return local
          const node = target.node
          return Effect.flatMap(agents.addressOf(node), (address) => {
            if (address === undefined) return local
            const now = clock.unsafeCurrentTimeMillis()
            return Effect.flatMap(confirmedContainer(authorized, now), (containerId) => {
              // No running container to name: exec reports what is wrong with it.
              if (containerId === undefined) return local
              const grant = grantHeader(target, containerId, now)
              // The agent refused the connection: exec serves the request, resolved (and read) afresh.
              forwarder.forward(req, res, address, node, grant, () => envd(req, res))
              return Effect.void
            })
          })
        }).pipe(Effect.catchAll(() => Effect.sync(() => envd(req, res)))),
      )
    }
  })

const serve = (e2b: E2bServerConfig) =>
  Layer.scopedDiscard(
    Effect.gen(function* () {
      const config = yield* ServerConfig
      const limits = limitsOf(config)
      const envd = yield* makeEnvdRoute(e2b)
      const control = yield* NodeHttpServer.makeHandler(
        BodyLimit.middleware(
          limits.maxBodyBytes,
          tooLarge,
        )(
          JsonBody.middleware(badRequest)(
            RetryAfter.middleware(config.retryAfterSeconds)(yield* ControlPlane.make),
          ),
        ),
      )
      const route = (req: IncomingMessage, res: ServerResponse) => {
        const sandboxIdHeader = req.headers["e2b-sandbox-id"]
        const request = {
          path: new URL(req.url ?? "/", "http://e2b.invalid").pathname,
          host: req.headers.host,
          sandboxIdHeader: Array.isArray(sandboxIdHeader) ? sandboxIdHeader[0] : sandboxIdHeader,
        }
        const plane = RequestRouting.isDataPlane(request, e2b.domain) ? "envd" : "api"
        E2bMetrics.observe(req, res, plane)
        if (plane === "envd") envd(req, res, request.path)
        else control(req, res)
      }
      // A whole request (a client-streamed input, an upload) must arrive within requestTimeout, its
      // headers within headersTimeout: a client trickling bytes cannot hold a connection forever.
      // Responses (process output streams) are not bounded by either.
      const requestTimeout = limits.requestTimeoutMillis
      const headersTimeout = Math.min(limits.headersTimeoutMillis, requestTimeout)
      const server = createServer(
        {
          requestTimeout,
          headersTimeout,
          // Node checks both timeouts on this interval (30 s by default): check often enough to keep them.
          connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(headersTimeout / 2))),
        },
        route,
      )
      yield* listen(server, e2b.port, config.host)
      yield* Effect.logInfo(`E2B API and envd listening on ${config.host}:${e2b.port}`)
    }),
  ).pipe(
    Layer.provide(E2bSandboxes.layer),
    Layer.provideMerge(
      Layer.unwrapEffect(Effect.map(ServerConfig, (c) => AccessTokenKey.layer(c.systemNamespace))),
    ),
    Layer.provide(
      e2b.nodeAgents === undefined
        ? NodeAgents.layerNone
        : Layer.unwrapEffect(Effect.map(ServerConfig, (c) => NodeAgents.layer(c.systemNamespace))),
    ),
    Layer.provide(
      e2b.nodeAgents === undefined
        ? Layer.succeed(NodeAgentGrantKey.NodeAgentGrantKey, { key: new Uint8Array() })
        : Layer.unwrapEffect(Effect.map(ServerConfig, (c) => NodeAgentGrantKey.layer(c.systemNamespace))),
    ),
    Layer.provide(
      Layer.unwrapEffect(
        Effect.map(ServerConfig, (config) => {
          const limits = limitsOf(config)
          return EnvdHandler.layerServices({
            maxWatchersPerSandbox: limits.maxWatchersPerSandbox,
            processes: {
              maxPerSandbox: limits.maxProcessesPerSandbox,
              maxStdinBufferBytes: limits.maxStdinBufferBytes,
            },
          }).pipe(Layer.provide(E2bMetrics.timedKubeShell))
        }),
      ),
    ),
    Layer.provide(NodeHttpServer.layerContext),
  )

/** Nothing when the configuration leaves the E2B server out. */
export const layer = Layer.unwrapEffect(
  Effect.map(ServerConfig, (config) => (config.e2b === undefined ? Layer.empty : serve(config.e2b))),
)
