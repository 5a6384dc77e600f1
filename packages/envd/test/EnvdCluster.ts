/**
 * Shared setup of the tests against the local control plane ($KUBECONFIG): a Pod on a KWOK
 * node (whose exec runs commands on this machine, in the Pod's own working directory, as an
 * unprivileged user), and the envd handler serving on 127.0.0.1 with a resolver for that Pod.
 */
import { createServer, type Server } from "node:http"
import type { Http2Server } from "node:http2"
import type { AddressInfo, Socket } from "node:net"
import { KubeConfig } from "@agent-sandbox/kube"
import { createClient, type Interceptor } from "@connectrpc/connect"
import { createConnectTransport } from "@connectrpc/connect-node"
import * as k8s from "@kubernetes/client-node"
import { Context, Effect, Layer, Schedule } from "effect"
import * as EnvdHandler from "../src/EnvdHandler.ts"
import { Filesystem } from "../src/gen/filesystem/filesystem_pb.ts"
import { Process } from "../src/gen/process/process_pb.ts"
import { type ResolveSandbox, SandboxResolveError, type SandboxTarget } from "../src/SandboxTarget.ts"

export const sandboxId = "sbx-envd-test"
export const accessToken = "envd-test-token"

export interface EnvdServerShape {
  readonly url: string
  /** The handler itself, to mount on other servers (e.g. HTTP/2). */
  readonly handler: EnvdHandler.EnvdHandler
  readonly target: SandboxTarget
  /** The Pod's working directory: $HOME of its commands. */
  readonly home: string
}

export class EnvdServer extends Context.Tag("@agent-sandbox/envd/test/EnvdServer")<
  EnvdServer,
  EnvdServerShape
>() {}

const isReady = (pod: k8s.V1Pod) =>
  pod.status?.phase === "Running" &&
  (pod.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True")

/** A namespace with one Ready Pod, deleted with the scope. */
const testPod = (namespace: string) =>
  Effect.gen(function* () {
    const core = (yield* KubeConfig.KubeConfig).makeApiClient(k8s.CoreV1Api)
    yield* Effect.acquireRelease(
      Effect.promise(() => core.createNamespace({ body: { metadata: { name: namespace } } })),
      () => Effect.tryPromise(() => core.deleteNamespace({ name: namespace })).pipe(Effect.ignore),
    )
    yield* Effect.promise(() =>
      core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name: "sandbox" },
          spec: { containers: [{ name: "main", image: "busybox" }], tolerations: [{ operator: "Exists" }] },
        },
      }),
    )
    yield* Effect.tryPromise(() => core.readNamespacedPod({ namespace, name: "sandbox" })).pipe(
      Effect.filterOrFail(isReady, () => new Error("pod not ready yet")),
      Effect.retry(Schedule.spaced("250 millis")),
      Effect.timeout("90 seconds"),
      Effect.orDie,
    )
    return { namespace, pod: "sandbox", container: "main" } satisfies SandboxTarget
  })

const sockets = new WeakMap<Server | Http2Server, Set<Socket>>()

/** The server resolves our one sandbox id and checks its token, as the real server will. */
const resolverFor =
  (target: SandboxTarget): ResolveSandbox =>
  (request) => {
    const id = request.headers["e2b-sandbox-id"]
    if (id !== sandboxId) {
      return Effect.fail(
        new SandboxResolveError({ reason: "NotFound", message: `The sandbox ${id} was not found` }),
      )
    }
    if (request.headers["x-access-token"] !== accessToken) {
      return Effect.fail(
        new SandboxResolveError({ reason: "Unauthenticated", message: "invalid access token" }),
      )
    }
    return Effect.succeed(target)
  }

export const listen = (server: Server | Http2Server) =>
  Effect.acquireRelease(
    Effect.async<string>((resume) => {
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        resume(Effect.succeed(`http://127.0.0.1:${port}`))
      })
    }),
    () =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
        for (const socket of sockets.get(server) ?? []) socket.destroy()
      }),
  ).pipe(
    Effect.tap(() =>
      Effect.sync(() => {
        const open = new Set<Socket>()
        sockets.set(server, open)
        server.on("connection", (socket: Socket) => {
          open.add(socket)
          socket.on("close", () => open.delete(socket))
        })
      }),
    ),
  )

/** Runs `script` through /process.Process/Start over Connect and returns its stdout. */
const shellOutput = async (url: string, script: string): Promise<string> => {
  const client = createClient(Process, transport(url))
  let out = ""
  for await (const response of client.start({
    process: { cmd: "/bin/sh", args: ["-c", script] },
    stdin: false,
  })) {
    if (response.event?.event.case === "data" && response.event.event.value.output.case === "stdout") {
      out += new TextDecoder().decode(response.event.event.value.output.value)
    }
  }
  return out
}

export interface EnvdClusterOptions {
  /** The handler's limits (message size, uploads, ListDir depth). */
  readonly handler?: Omit<EnvdHandler.EnvdHandlerOptions, "resolveSandbox">
  /** The services' limits (processes, watchers, stdin). */
  readonly services?: EnvdHandler.EnvdServiceOptions
}

export const layer = (prefix: string, options: EnvdClusterOptions = {}): Layer.Layer<EnvdServer> =>
  Layer.scoped(
    EnvdServer,
    Effect.gen(function* () {
      const target = yield* testPod(`${prefix}-${Date.now().toString(36)}`)
      const handler = yield* EnvdHandler.make({ ...options.handler, resolveSandbox: resolverFor(target) })
      const url = yield* listen(createServer(handler))
      // KWOK creates the Pod's exec rule as it turns Ready; wait until commands run.
      const home = yield* Effect.tryPromise(() => shellOutput(url, 'printf "%s" "$HOME"')).pipe(
        Effect.retry(Schedule.spaced("250 millis").pipe(Schedule.upTo("60 seconds"))),
        Effect.orDie,
      )
      return { url, handler, target, home }
    }),
  ).pipe(Layer.provide(EnvdHandler.layerKube(options.services)), Layer.provide(KubeConfig.layerFromDefault))

const sandboxHeaders: Interceptor = (next) => (request) => {
  request.header.set("E2b-Sandbox-Id", sandboxId)
  request.header.set("X-Access-Token", accessToken)
  return next(request)
}

/** A Connect transport (JSON unless asked for binary) to the handler, sending the sandbox headers the SDKs send. */
export const transport = (url: string, httpVersion: "1.1" | "2" = "1.1", useBinaryFormat = false) =>
  createConnectTransport({ baseUrl: url, httpVersion, useBinaryFormat, interceptors: [sandboxHeaders] })

export const processClient = (url: string) => createClient(Process, transport(url))
export const filesystemClient = (url: string) => createClient(Filesystem, transport(url))
export const headers = { "E2b-Sandbox-Id": sandboxId, "X-Access-Token": accessToken }
