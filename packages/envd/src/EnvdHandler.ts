/**
 * The envd data plane as one Node.js request handler (HTTP/1.1 or HTTP/2) for the server to
 * mount: the `process.Process` and `filesystem.Filesystem` Connect services (Connect, gRPC and
 * gRPC-Web protocols; JSON and binary codecs) plus /files and /health. Every request names its
 * sandbox through the server's `resolveSandbox`, which also checks the access token.
 */

import type { ServerResponse } from "node:http"
import type { Http2ServerResponse } from "node:http2"
import type { KubeConfig } from "@agent-sandbox/kube"
import { type ConnectRouter, createContextValues } from "@connectrpc/connect"
import { connectNodeAdapter } from "@connectrpc/connect-node"
import { Cause, Effect, Exit, Layer, Option, Runtime } from "effect"
import * as CoalescedWrites from "./CoalescedWrites.ts"
import * as ConnectBridge from "./ConnectBridge.ts"
import * as ConnectErrorReply from "./ConnectErrorReply.ts"
import * as DirectoryWatch from "./DirectoryWatch.ts"
import { envdError, fromResolveError, toConnectError } from "./EnvdError.ts"
import * as FilesHttp from "./FilesHttp.ts"
import * as FilesystemService from "./FilesystemService.ts"
import { Filesystem } from "./gen/filesystem/filesystem_pb.ts"
import { Process } from "./gen/process/process_pb.ts"
import * as ProcessService from "./ProcessService.ts"
import * as ProcessTable from "./ProcessTable.ts"
import * as SandboxFiles from "./SandboxFiles.ts"
import { nodeRequestKey, targetOf } from "./SandboxRequest.ts"
import type { SandboxShell } from "./SandboxShell.ts"
import * as SandboxShellModule from "./SandboxShell.ts"
import type { EnvdRequest, ResolveSandbox, SandboxTarget } from "./SandboxTarget.ts"

/** Mount with `http.createServer(handler)`, `http2.createServer(handler)` or behind a router. */
export type EnvdHandler = (req: EnvdRequest, res: ServerResponse | Http2ServerResponse) => void

export interface EnvdHandlerOptions {
  readonly resolveSandbox: ResolveSandbox
  /** Largest Connect message accepted, in bytes (default 16 MiB). */
  readonly readMaxBytes?: number
  /** Largest /files upload, as sent and after gunzip, in bytes (default 512 MiB). */
  readonly maxUploadBytes?: number
  /** Deepest ListDir (default 32). */
  readonly maxListDepth?: number
}

/** What the data plane's services are told: DirectoryWatch's options and ProcessTable's. */
export interface EnvdServiceOptions extends DirectoryWatch.DirectoryWatchOptions {
  readonly processes?: ProcessTable.ProcessTableOptions
}

export type EnvdServices =
  | ProcessTable.ProcessTable
  | SandboxFiles.SandboxFiles
  | DirectoryWatch.DirectoryWatch

const rpcPath = /^\/[A-Za-z_][\w.]*\.[A-Za-z_]\w*\/[A-Za-z_]\w*$/

/** Requests that are neither a known RPC nor /files or /health. */
const notFound = (req: EnvdRequest, res: FilesHttp.EnvdResponse): void => {
  const path = new URL(req.url ?? "/", "http://envd").pathname
  const body = rpcPath.test(path)
    ? // Connect clients read the code from the body: an unknown method is "unimplemented".
      { code: "unimplemented", message: `${path} is not implemented` }
    : { code: 404, message: `${path} not found` }
  const text = JSON.stringify(body)
  res.writeHead(404, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
  res.end(text)
}

export const make = (options: EnvdHandlerOptions): Effect.Effect<EnvdHandler, never, EnvdServices> =>
  Effect.gen(function* () {
    const runtime = yield* Effect.runtime<EnvdServices>()
    const bridge = ConnectBridge.make(runtime)
    // An RPC's sandbox (and so its access token) is resolved before connect-node reads its body;
    // the services then find it here rather than resolving again.
    const resolved = new WeakMap<EnvdRequest, SandboxTarget>()
    const resolveOnce: ResolveSandbox = (request) => {
      const known = resolved.get(request)
      return known !== undefined ? Effect.succeed(known) : options.resolveSandbox(request)
    }
    const target = targetOf(resolveOnce)
    const routes = (router: ConnectRouter) => {
      router.service(Process, ProcessService.make(bridge, target))
      router.service(
        Filesystem,
        FilesystemService.make(bridge, target, { maxListDepth: options.maxListDepth ?? 32 }),
      )
    }
    const rpc = connectNodeAdapter({
      routes,
      contextValues: (req) => createContextValues().set(nodeRequestKey, req),
      // Newer SDKs may send fields this envd version does not know.
      jsonOptions: { ignoreUnknownFields: true },
      readMaxBytes: options.readMaxBytes ?? 16 * 1024 * 1024,
      fallback: (req, res) => {
        const path = new URL(req.url ?? "/", "http://envd").pathname
        const response = res as unknown as FilesHttp.EnvdResponse
        if (FilesHttp.isFilesHttpPath(path)) {
          FilesHttp.serve(runtime, options.resolveSandbox, req, response, {
            maxUploadBytes: options.maxUploadBytes ?? 512 * 1024 * 1024,
          }).catch(() => response.destroy())
        } else {
          notFound(req, response)
        }
      },
    })
    const runPromiseExit = Runtime.runPromiseExit(runtime)
    return (req, res) => {
      CoalescedWrites.coalesce(res)
      // /files resolves its sandbox before reading a byte of an upload; anything else is a 404.
      if (!rpcPath.test(new URL(req.url ?? "/", "http://envd").pathname)) return rpc(req, res)
      // Neither a body nor its parse for a caller whose token opens nothing: whatever it sent,
      // it gets the resolver's error (unauthenticated, not found).
      void runPromiseExit(options.resolveSandbox(req)).then((exit) => {
        if (Exit.isSuccess(exit)) {
          resolved.set(req, exit.value)
          return rpc(req, res)
        }
        const error = Option.match(Cause.failureOption(exit.cause), {
          onNone: () => envdError("internal", "the sandbox could not be resolved"),
          onSome: fromResolveError,
        })
        ConnectErrorReply.write(req, res as unknown as FilesHttp.EnvdResponse, toConnectError(error))
      })
    }
  })

/** The data plane's services over a SandboxShell. */
export const layerServices = (
  options: EnvdServiceOptions = {},
): Layer.Layer<EnvdServices, never, SandboxShell> => {
  const files = SandboxFiles.layer
  return Layer.mergeAll(
    ProcessTable.layerWith(options.processes ?? {}),
    files,
    DirectoryWatch.layer(options).pipe(Layer.provide(files)),
  )
}

/** Everything through the Kubernetes exec API. */
export const layerKube = (
  options: EnvdServiceOptions = {},
): Layer.Layer<EnvdServices, never, KubeConfig.KubeConfig> =>
  layerServices(options).pipe(Layer.provide(SandboxShellModule.layerKube))
