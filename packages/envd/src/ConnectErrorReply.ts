/**
 * A Connect error answered before the request's body is read, in the protocol the request speaks:
 * Connect unary (an HTTP status and `{"code","message"}`), Connect streaming (an end-stream frame),
 * gRPC and gRPC-Web (a trailers-only answer). connect-node only answers after it has read and parsed
 * the body; a request refused by its access token must not get that far.
 */
import type { ConnectError } from "@connectrpc/connect"
import { encodeEnvelope } from "@connectrpc/connect/protocol"
import {
  codeToHttpStatus,
  endStreamFlag,
  endStreamToJson,
  errorToJsonBytes,
} from "@connectrpc/connect/protocol-connect"
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc"
import type { EnvdResponse } from "./FilesHttp.ts"
import type { EnvdRequest } from "./SandboxTarget.ts"

export type Protocol = "connect-unary" | "connect-stream" | "grpc"

/** Which answer a request's Content-Type expects. */
export const protocolOf = (contentType: string | undefined): Protocol => {
  const media = (contentType ?? "").split(";")[0]!.trim().toLowerCase()
  if (media.startsWith("application/grpc")) return "grpc"
  if (media.startsWith("application/connect+")) return "connect-stream"
  return "connect-unary"
}

export const write = (req: EnvdRequest, res: EnvdResponse, error: ConnectError): void => {
  const contentType = (req.headers["content-type"] ?? "").split(";")[0]!.trim()
  // The body stays unread: over HTTP/1.1 the connection closes after the answer instead of
  // reading the rest of it (HTTP/2 resets just the stream).
  const close: Record<string, string> = req.httpVersionMajor === 1 ? { connection: "close" } : {}
  switch (protocolOf(contentType)) {
    case "grpc": {
      const status = Object.fromEntries(setTrailerStatus(new Headers(), error))
      res.writeHead(200, { "content-type": contentType, ...status, ...close })
      res.end()
      return
    }
    case "connect-stream": {
      const json = endStreamToJson(new Headers(), error, undefined)
      const body = encodeEnvelope(endStreamFlag, new TextEncoder().encode(JSON.stringify(json)))
      res.writeHead(200, { "content-type": contentType, "content-length": body.byteLength, ...close })
      res.end(Buffer.from(body))
      return
    }
    case "connect-unary": {
      const body = errorToJsonBytes(error, undefined)
      res.writeHead(codeToHttpStatus(error.code), {
        "content-type": "application/json",
        "content-length": body.byteLength,
        ...close,
      })
      res.end(Buffer.from(body))
    }
  }
}
