/**
 * Any port of a sandbox through real Envoy (E2B's `sandbox.getHost(port)`: `<port>-<id>.<domain>`),
 * two clusters behind it (support/CrossClusterRig.ts), the JS SDK pointed at cluster a's Envoy only.
 *
 * What stands in for a server inside the sandbox: on KWOK a Pod's IP is not reachable, so the pools
 * here use a SandboxTemplate with `hostNetwork: true`, whose Pods KWOK reports with the node's IP,
 * 127.0.0.1; a server this test starts on 127.0.0.1:<port> (HTTP that echoes what it got, and a
 * WebSocket echo) is then what `<port>-<id>` reaches, exactly as a server in a real Pod would be.
 * Pools: `web` (ports public) and `webprivate` (spec.portAccess: Private) in a, `webb` in b.
 */
import * as http from "node:http"
import { type AddressInfo, createServer, type Socket } from "node:net"
import { SandboxPool, SandboxTemplate } from "@agent-sandbox/domain"
import { RouteControlClient } from "@agent-sandbox/extproc"
import { KubeClient, KubeConfig } from "@agent-sandbox/kube"
import { SandboxResources } from "@agent-sandbox/operator"
import { Eventually } from "@agent-sandbox/testing"
import { assert, layer } from "@effect/vitest"
import * as Newest from "e2b"
import { Context, Effect, Layer, Schema } from "effect"
import { WebSocket, WebSocketServer } from "ws"
import * as CrossClusterRig from "./support/CrossClusterRig.ts"
import * as SdkServer from "./support/SdkServer.ts"

const template = "xc-hostnet"

/** The cluster-scoped template (hostNetwork: not allowed inline) and the pools of one cluster. */
const poolsOn = (
  side: CrossClusterRig.Side,
  pools: ReadonlyArray<{ readonly name: string; readonly portAccess: "Public" | "Private" }>,
) =>
  Effect.gen(function* () {
    // Built in the caller's scope: the template's deletion at the end still has its client.
    const kube = yield* Layer.build(
      Layer.provideMerge(KubeClient.layer, Layer.succeed(KubeConfig.KubeConfig, side.kubeConfig)),
    )
    const client = Context.get(kube, KubeClient.KubeClient)
    yield* Effect.acquireRelease(
      client.create(
        SandboxResources.SandboxTemplateResource,
        Schema.decodeUnknownSync(SandboxTemplate)({
          apiVersion: "sandbox.agent-sandbox.dev/v1alpha1",
          kind: "SandboxTemplate",
          metadata: { name: template },
          spec: {
            podTemplate: {
              spec: { hostNetwork: true, containers: [{ name: "sandbox", image: "busybox:1.36" }] },
            },
          },
        }),
      ),
      () => Effect.ignore(client.delete(SandboxResources.SandboxTemplateResource, template)),
    )
    for (const pool of pools) {
      yield* client.create(
        SandboxResources.SandboxPoolResource,
        Schema.decodeUnknownSync(SandboxPool)({
          apiVersion: "sandbox.agent-sandbox.dev/v1alpha1",
          kind: "SandboxPool",
          metadata: { name: pool.name, namespace: side.operator.namespace },
          spec: {
            templateRef: { name: template },
            replicas: 1,
            portAccess: pool.portAccess,
            sandbox: { defaultTimeoutSeconds: 300, maxTimeoutSeconds: 600, startupTimeoutSeconds: 60 },
          },
        }),
        { namespace: side.operator.namespace },
      )
    }
  })

/** What stands in for a sandbox's server: HTTP echoing method, path and headers; a WebSocket echo. */
const sandboxServer = Effect.acquireRelease(
  Effect.async<{ readonly port: number; readonly close: () => void }>((resume) => {
    const server = http.createServer((req, res) => {
      res.writeHead(200, { "content-type": "application/json" })
      res.end(JSON.stringify({ method: req.method, path: req.url, headers: req.headers }))
    })
    const sockets = new WebSocketServer({ server })
    sockets.on("connection", (socket) => socket.on("message", (data) => socket.send(`echo:${data}`)))
    server.listen(0, "127.0.0.1", () =>
      resume(
        Effect.succeed({
          port: (server.address() as AddressInfo).port,
          close: () => {
            for (const client of sockets.clients) client.terminate()
            sockets.close()
            server.close()
          },
        }),
      ),
    )
  }),
  (server) => Effect.sync(server.close),
)

/** A port nothing listens on: bound once, then freed. */
const closedPort = Effect.async<number>((resume) => {
  const probe = createServer()
  probe.listen(0, "127.0.0.1", () => {
    const { port } = probe.address() as AddressInfo
    probe.close(() => resume(Effect.succeed(port)))
  })
})

interface Reply {
  readonly status: number
  readonly json: { readonly [key: string]: unknown }
}

/** GET through Envoy with the sandbox's host name (what a browser or client of getHost sends). */
const get = (envoyPort: number, host: string, path: string, headers: Record<string, string> = {}) =>
  Effect.async<Reply, Error>((resume) => {
    const req = http.request(
      { host: "127.0.0.1", port: envoyPort, path, headers: { host, ...headers } },
      (res) => {
        let body = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => {
          body += chunk
        })
        res.on("end", () => resume(Effect.succeed({ status: res.statusCode ?? 0, json: JSON.parse(body) })))
      },
    )
    req.on("error", (error) => resume(Effect.fail(error)))
    req.end()
  })

/** One WebSocket message through Envoy to the sandbox's port, and its echo. */
const echoOverWebSocket = (envoyPort: number, host: string, message: string) =>
  Effect.async<string, Error>((resume) => {
    const socket = new WebSocket(`ws://127.0.0.1:${envoyPort}/socket`, { headers: { host } })
    socket.on("open", () => socket.send(message))
    socket.on("message", (data) => {
      resume(Effect.succeed(String(data)))
      socket.close()
    })
    socket.on("error", (error) => resume(Effect.fail(error)))
    return Effect.sync(() => socket.terminate())
  })

const rig = CrossClusterRig.layer({
  poolA: { ...SdkServer.kwokPool, replicas: 1 },
  poolB: { ...SdkServer.kwokPool, replicas: 1 },
  onlyA: "alpha",
  onlyB: "beta",
})

const env = Layer.scopedDiscard(
  Effect.gen(function* () {
    const r = yield* CrossClusterRig.CrossClusterRig
    yield* SdkServer.useSdkEnvironment(CrossClusterRig.sdkEnvironment(r))
    yield* poolsOn(r.a, [
      { name: "web", portAccess: "Public" },
      { name: "webprivate", portAccess: "Private" },
    ])
    yield* poolsOn(r.b, [{ name: "webb", portAccess: "Public" }])
  }),
).pipe(Layer.provideMerge(rig))

/** Cluster a's extproc knows b has a warm `webb` (creates of it go there) and a has `web`. */
const warmEverywhere = Effect.scoped(
  Effect.gen(function* () {
    const r = yield* CrossClusterRig.CrossClusterRig
    const control = yield* RouteControlClient.make(`127.0.0.1:${r.a.controlPort}`)
    yield* Eventually.eventually(
      Effect.flatMap(control.listClusters, (listed) => {
        const warm = (cluster: string, template: string) =>
          listed.clusters.find((c) => c.name === cluster)?.capacity.find((t) => t.template === template)
            ?.warm ?? 0
        return warm("b", "webb") > 0 && warm("a", "web") > 0 && warm("a", "webprivate") > 0
          ? Effect.void
          : Effect.fail("not warm yet")
      }),
      { timeout: "90 seconds", interval: "500 millis" },
    )
  }),
)

layer(env, { timeout: "600 seconds", excludeTestServices: true })(
  "any port of a sandbox through Envoy (`<port>-<id>.<domain>`)",
  (it) => {
    it.scoped(
      "HTTP and a WebSocket reach the sandbox's port; a port nobody listens on is 502; an unknown sandbox 404",
      () =>
        Effect.gen(function* () {
          const r = yield* CrossClusterRig.CrossClusterRig
          yield* warmEverywhere
          const server = yield* sandboxServer
          const sandbox = yield* Effect.promise(() => Newest.Sandbox.create("web"))
          assert.strictEqual(sandbox.sandboxId.split("-")[0], "a")
          const host = sandbox.getHost(server.port)
          assert.strictEqual(host, `${server.port}-${sandbox.sandboxId}.${r.a.operator.domain}`)

          const reply = yield* get(r.a.envoy.port, host, "/hello?x=1")
          assert.strictEqual(reply.status, 200, JSON.stringify(reply.json))
          assert.strictEqual(reply.json.path, "/hello?x=1")
          assert.strictEqual((reply.json.headers as Record<string, string>).host, host)

          assert.strictEqual(yield* echoOverWebSocket(r.a.envoy.port, host, "ping"), "echo:ping")

          const unused = yield* closedPort
          const refused = yield* get(r.a.envoy.port, sandbox.getHost(unused), "/")
          assert.strictEqual(refused.status, 502)
          assert.strictEqual(refused.json.code, 502)
          assert.include(String(refused.json.message), `${unused}-${sandbox.sandboxId}`)

          const unknown = yield* get(
            r.a.envoy.port,
            `${server.port}-a-nosuchsandbox00000000.sandbox.test`,
            "/",
          )
          assert.strictEqual(unknown.status, 404)
          assert.strictEqual(unknown.json.code, 404)
          assert.include(String(unknown.json.message), "was not found")

          assert.isTrue(yield* Effect.promise(() => sandbox.kill()))
          // Gone: its port is not reachable any more.
          yield* Eventually.eventually(
            Effect.filterOrFail(get(r.a.envoy.port, host, "/"), (res) => res.status === 404),
            { timeout: "30 seconds" },
          )
        }),
      300_000,
    )

    it.scoped(
      "Envoy lets go of an idle connection to a sandbox's server before the server would (a request on a closing connection is reset, and a POST is not retried)",
      () =>
        Effect.gen(function* () {
          yield* warmEverywhere
          const r = yield* CrossClusterRig.CrossClusterRig
          // A server that keeps idle connections for a minute: only Envoy's own idle timeout closes them.
          const open = new Set<Socket>()
          const server = yield* Effect.acquireRelease(
            Effect.async<http.Server>((resume) => {
              const s = http.createServer({ keepAliveTimeout: 60_000 }, (_req, res) => res.end("{}"))
              s.on("connection", (socket) => {
                open.add(socket)
                socket.on("close", () => open.delete(socket))
              })
              s.listen(0, "127.0.0.1", () => resume(Effect.succeed(s)))
            }),
            (s) => Effect.sync(() => s.close()),
          )
          const port = (server.address() as AddressInfo).port
          const sandbox = yield* Effect.promise(() => Newest.Sandbox.create("web"))
          const reply = yield* get(r.a.envoy.port, sandbox.getHost(port), "/")
          assert.strictEqual(reply.status, 200)
          assert.isAbove(open.size, 0)
          // Closed by Envoy well before Node's default keep-alive of 5 s would matter to any server.
          yield* Eventually.eventually(
            Effect.suspend(() => (open.size === 0 ? Effect.void : Effect.fail(`${open.size} still open`))),
            { timeout: "20 seconds", interval: "250 millis" },
          )
          assert.isTrue(yield* Effect.promise(() => sandbox.kill()))
        }),
      300_000,
    )

    it.scoped(
      "a sandbox of cluster b, asked for at a's Envoy, is reached through b's Envoy",
      () =>
        Effect.gen(function* () {
          const r = yield* CrossClusterRig.CrossClusterRig
          yield* warmEverywhere
          const server = yield* sandboxServer
          const sandbox = yield* Effect.promise(() => Newest.Sandbox.create("webb"))
          assert.strictEqual(sandbox.sandboxId.split("-")[0], "b")
          const host = sandbox.getHost(server.port)
          const reply = yield* get(r.a.envoy.port, host, "/from-a")
          assert.strictEqual(reply.status, 200, JSON.stringify(reply.json))
          const headers = reply.json.headers as Record<string, string>
          // a forwarded it (the loop guard), b routed it to its Pod.
          assert.strictEqual(headers["x-agent-sandbox-via"], "a")
          assert.strictEqual(headers["x-agent-sandbox-cluster"], "b")
          assert.strictEqual(yield* echoOverWebSocket(r.a.envoy.port, host, "over-b"), "echo:over-b")
          assert.isTrue(yield* Effect.promise(() => sandbox.kill()))
        }),
      300_000,
    )

    it.scoped(
      "a private pool's port: 403 JSON without the traffic access token or with another's; its own opens it",
      () =>
        Effect.gen(function* () {
          const r = yield* CrossClusterRig.CrossClusterRig
          yield* warmEverywhere
          const server = yield* sandboxServer
          const sandbox = yield* Effect.promise(() => Newest.Sandbox.create("webprivate"))
          const other = yield* Effect.promise(() => Newest.Sandbox.create("web"))
          const token = sandbox.trafficAccessToken
          assert.isString(token)
          const host = sandbox.getHost(server.port)

          const without = yield* get(r.a.envoy.port, host, "/")
          assert.strictEqual(without.status, 403)
          assert.strictEqual(without.json.code, 403)
          assert.include(String(without.json.message), "e2b-traffic-access-token")

          const wrong = yield* get(r.a.envoy.port, host, "/", {
            "e2b-traffic-access-token": other.trafficAccessToken ?? "",
          })
          assert.strictEqual(wrong.status, 403)

          const right = yield* get(r.a.envoy.port, host, "/private", {
            "e2b-traffic-access-token": token ?? "",
          })
          assert.strictEqual(right.status, 200, JSON.stringify(right.json))
          assert.strictEqual(right.json.path, "/private")

          // The public pool's sandbox needs no token.
          const open = yield* get(r.a.envoy.port, other.getHost(server.port), "/")
          assert.strictEqual(open.status, 200)
          assert.isTrue(yield* Effect.promise(() => sandbox.kill()))
          assert.isTrue(yield* Effect.promise(() => other.kill()))
        }),
      300_000,
    )
  },
)
