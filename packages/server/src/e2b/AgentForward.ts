/**
 * Hands an envd request to the node agent of the sandbox's node: the request as it came (method,
 * path, headers, streamed body) plus a grant naming the one sandbox the server resolved, over
 * kept-alive connections (one pool per agent address), the agent's response streamed back as it
 * comes. An agent that refuses the connection (it stopped, or it is restarting) leaves the request
 * untouched, and the caller's fallback (exec through the API server) serves it; an agent lost once
 * the request was on its way is envd's `unavailable` (502), or a cut stream.
 */
import { Agent, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http"
import { CoalescedWrites, NodeAgentGrant } from "@agent-sandbox/envd"

/** Headers that describe one connection, not the request (RFC 9110 §7.6.1). */
const hopByHop = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "upgrade",
  "proxy-authorization",
  "proxy-authenticate",
])

const endToEnd = (headers: IncomingMessage["headers"]): Record<string, string | Array<string>> => {
  const kept: Record<string, string | Array<string>> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !hopByHop.has(name)) kept[name] = value
  }
  return kept
}

const unavailable = (res: ServerResponse, message: string) => {
  if (res.headersSent) {
    // Mid-response: only breaking the connection tells the client the stream did not end well.
    res.destroy()
    return
  }
  const body = JSON.stringify({ code: "unavailable", message })
  res.writeHead(502, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
  res.end(body)
}

export interface AgentForwarder {
  readonly forward: (
    req: IncomingMessage,
    res: ServerResponse,
    address: string,
    node: string,
    /** The signed grant (SignedGrants) naming the one sandbox container the request may reach. */
    grant: string,
    /** Serves the request another way when the agent could not be connected to (nothing was sent). */
    fallback: () => void,
  ) => void
  readonly close: () => void
}

export const make = (): AgentForwarder => {
  // Kept-alive sockets: a command costs no TCP handshake to the agent.
  const agent = new Agent({ keepAlive: true, keepAliveMsecs: 30_000, maxFreeSockets: 256 })
  return {
    forward: (req, res, address, node, grant, fallback) => {
      const target = new URL(req.url ?? "/", address)
      const headers = endToEnd(req.headers)
      headers[NodeAgentGrant.headerName] = grant
      const upstream = httpRequest(target, { method: req.method ?? "GET", headers, agent }, (response) => {
        // The agent's last messages and its end arrive together: they leave together too.
        CoalescedWrites.coalesce(res)
        res.writeHead(response.statusCode ?? 502, endToEnd(response.headers))
        response.pipe(res)
        response.once("error", () => res.destroy())
        response.once("aborted", () => res.destroy())
      })
      // The body waits until a connection stands: before that, a failure leaves the request whole.
      let sending = false
      const send = () => {
        sending = true
        req.pipe(upstream)
      }
      upstream.once("socket", (socket) => {
        if (socket.connecting) socket.once("connect", send)
        else send()
      })
      upstream.once("error", (error) => {
        if (!sending) {
          fallback()
          return
        }
        unavailable(res, `the node agent of node ${node} cannot be reached (${address}): ${error.message}`)
      })
      // The client went away: stop the agent's side too (a streamed command's output, an upload).
      res.once("close", () => {
        if (!res.writableFinished) upstream.destroy()
      })
    },
    close: () => agent.destroy(),
  }
}
