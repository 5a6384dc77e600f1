/**
 * wsproxy's :9003: the terminal page (GET /), its two API calls passed through to the REST API
 * (ApiPassage), and terminals as WebSockets at /ws/sandboxes/<id>/terminal?token=<terminal token>.
 * An upgrade from a foreign origin is refused before it is a WebSocket (403); a token that opens
 * nothing gets a WebSocket closed with a 44xx code and a reason the page shows.
 */
import * as http from "node:http"
import type { Duplex } from "node:stream"
import type { SandboxShell } from "@agent-sandbox/envd"
import type { KubeClient } from "@agent-sandbox/kube"
import { Effect, FiberSet, Layer, Option } from "effect"
import { type WebSocket, WebSocketServer } from "ws"
import * as ApiPassage from "./ApiPassage.ts"
import * as SandboxCheck from "./SandboxCheck.ts"
import * as TerminalAdmission from "./TerminalAdmission.ts"
import * as TerminalFrames from "./TerminalFrames.ts"
import { CloseCode } from "./TerminalFrames.ts"
import { TerminalKey } from "./TerminalKey.ts"
import * as TerminalPage from "./TerminalPage.ts"
import * as TerminalSession from "./TerminalSession.ts"
import { TerminalSessions } from "./TerminalSessions.ts"
import { WsproxyConfig } from "./WsproxyConfig.ts"

const terminalPath = /^\/ws\/sandboxes\/([^/]+)\/terminal$/

const refuseUpgrade = (socket: Duplex, status: number, message: string) => {
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${message}\n`,
  )
}

/** Upper bound on a passed-through API call. */
const apiTimeoutMillis = 30_000

const make = Effect.gen(function* () {
  const config = yield* WsproxyConfig
  const { key } = yield* TerminalKey
  const sessions = yield* TerminalSessions
  const assets = yield* TerminalPage.load(config.pageFolder)
  const runFork = yield* FiberSet.makeRuntime<SandboxShell.SandboxShell | KubeClient.KubeClient>()
  const sockets = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1024 * 1024 })

  const terminal = (socket: WebSocket, sandboxId: string, params: URLSearchParams) =>
    Effect.gen(function* () {
      const admitted = yield* sessions.admit({
        key,
        sandboxId,
        token: params.get("token") ?? undefined,
        maxSessions: config.maxSessionsPerSandbox,
      })
      if (admitted._tag === "Left") {
        socket.close(admitted.left.code, admitted.left.reason)
        return
      }
      const { claims } = admitted.right
      yield* Effect.gen(function* () {
        const pod = yield* SandboxCheck.current(claims).pipe(Effect.either)
        if (pod._tag === "Left") {
          socket.close(
            CloseCode.failed,
            TerminalSession.closeReason(`cannot read the sandbox: ${pod.left.message}`),
          )
          return
        }
        if (Option.isNone(pod.right)) {
          socket.close(CloseCode.notFound, `sandbox ${claims.sandboxId} has ended`)
          return
        }
        const target = { namespace: claims.namespace, pod: claims.pod, container: claims.container }
        const end = yield* Effect.scoped(
          TerminalSession.run(socket, target, {
            size: TerminalFrames.initialSize(params),
            idleTimeout: config.idleTimeout,
            pingInterval: config.pingInterval,
          }),
        )
        yield* Effect.logDebug(`terminal in sandbox ${claims.sandboxId} ended: ${end._tag}`)
      }).pipe(Effect.ensuring(sessions.closed(sandboxId)))
    })

  const onUpgrade = (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? "/", "http://wsproxy.invalid")
    const match = terminalPath.exec(url.pathname)
    if (match === null) return refuseUpgrade(socket, 404, "no such WebSocket")
    const origin = request.headers.origin
    if (!TerminalAdmission.originAllowed(origin, request.headers.host, config.allowedOrigins)) {
      return refuseUpgrade(socket, 403, `origin ${origin} may not open terminals`)
    }
    let sandboxId: string
    try {
      sandboxId = decodeURIComponent(match[1] as string)
    } catch {
      return refuseUpgrade(socket, 400, "malformed sandbox id")
    }
    sockets.handleUpgrade(request, socket, head, (ws) => {
      runFork(terminal(ws, sandboxId, url.searchParams))
    })
  }

  const pass = async (
    passage: ApiPassage.Passage,
    request: http.IncomingMessage,
    response: http.ServerResponse,
  ) => {
    const apiKey = request.headers["x-api-key"]
    const headers: Record<string, string> = {}
    if (typeof apiKey === "string") headers["x-api-key"] = apiKey
    try {
      const answer = await fetch(`${config.apiUrl}${passage.path}`, {
        method: passage.method,
        headers,
        signal: AbortSignal.timeout(apiTimeoutMillis),
      })
      response.writeHead(answer.status, {
        "content-type": answer.headers.get("content-type") ?? "application/json",
      })
      response.end(Buffer.from(await answer.arrayBuffer()))
    } catch (cause) {
      response.writeHead(502, { "content-type": "application/json" })
      response.end(
        JSON.stringify({ _tag: "ApiUnavailable", message: `the API did not answer: ${String(cause)}` }),
      )
    }
  }

  const onRequest = (request: http.IncomingMessage, response: http.ServerResponse) => {
    const path = new URL(request.url ?? "/", "http://wsproxy.invalid").pathname
    if (request.method === "GET" && path === "/healthz") {
      response.writeHead(200, { "content-type": "text/plain" }).end("ok\n")
      return
    }
    const passage = ApiPassage.route(request.method ?? "GET", request.url ?? "/")
    if (passage !== undefined) {
      void pass(passage, request, response)
      return
    }
    const asset = request.method === "GET" ? assets.get(path) : undefined
    if (asset === undefined) {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found\n")
      return
    }
    response
      .writeHead(200, {
        "content-type": asset.contentType,
        "cache-control": "no-cache",
        // The page runs only its own scripts and talks only to its own origin.
        "content-security-policy":
          "default-src 'self'; connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
      })
      .end(asset.body)
  }

  const server = http.createServer(onRequest)
  server.on("upgrade", onUpgrade)
  yield* Effect.acquireRelease(
    Effect.async<void, Error>((resume) => {
      server.once("error", (error) => resume(Effect.fail(error)))
      server.listen(config.port, config.host, () => resume(Effect.void))
    }),
    () =>
      Effect.async<void>((resume) => {
        // Each terminal's fiber is interrupted next (FiberSet), which kills its shell.
        for (const client of sockets.clients) client.close(CloseCode.goingAway, "wsproxy is stopping")
        server.close(() => resume(Effect.void))
        server.closeAllConnections()
      }),
  )
  yield* Effect.logInfo(`wsproxy: terminals on http://${config.host}:${config.port}`)
})

/** Serves the page and terminals while the layer is in scope. */
export const layer: Layer.Layer<
  never,
  Error,
  WsproxyConfig | TerminalKey | TerminalSessions | SandboxShell.SandboxShell | KubeClient.KubeClient
> = Layer.scopedDiscard(make)
