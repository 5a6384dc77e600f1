/**
 * Any port of a sandbox on the real node: `<port>-<id>.<domain>` (E2B's `sandbox.getHost(port)`)
 * through real Envoy and the extproc to a web server started inside a real sandbox container with
 * the E2B JS SDK (`commands.run(..., { background: true })`): Python's http.server for HTTP, and a
 * WebSocket echo written with Python's standard library (the image has no WebSocket package). The
 * Pod IP is the real node's bridge address, reached from this host as Envoy reaches a Pod in a
 * cluster. One cluster: the KWOK suite (SandboxPorts.test.ts) covers the second one.
 */
import * as http from "node:http"
import type { SandboxIdFormat } from "@agent-sandbox/domain"
import { Extproc, ExtprocConfig } from "@agent-sandbox/extproc"
import { KubeClient } from "@agent-sandbox/kube"
import { Envoy, Eventually, FreePorts, RealNode } from "@agent-sandbox/testing"
import { assert, layer } from "@effect/vitest"
import * as Sdk from "e2b"
import { Effect, Layer } from "effect"
import { WebSocket } from "ws"
import * as SdkServer from "./support/SdkServer.ts"

const [python] = RealNode.images.python

const realNodePool = {
  replicas: 1,
  sandbox: { defaultTimeoutSeconds: 300, maxTimeoutSeconds: 600, startupTimeoutSeconds: 60 },
  template: {
    podTemplate: {
      spec: RealNode.sandboxPodSpec(python),
    },
  },
}

/** A WebSocket echo (RFC 6455 text frames) on the port given, from Python's standard library. */
const webSocketEcho = `
import base64, hashlib, socket, sys, threading
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
def serve(conn):
    buf = b""
    while b"\\r\\n\\r\\n" not in buf:
        chunk = conn.recv(4096)
        if not chunk:
            return
        buf += chunk
    head, buf = buf.split(b"\\r\\n\\r\\n", 1)
    key = [l.split(b":", 1)[1].strip() for l in head.split(b"\\r\\n") if l.lower().startswith(b"sec-websocket-key:")][0]
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
    conn.sendall(b"HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Accept: " + accept + b"\\r\\n\\r\\n")
    def take(n):
        nonlocal buf
        while len(buf) < n:
            chunk = conn.recv(4096)
            if not chunk:
                raise EOFError()
            buf += chunk
        out, buf = buf[:n], buf[n:]
        return out
    while True:
        first, second = take(2)
        length = second & 0x7F
        if length == 126:
            length = int.from_bytes(take(2), "big")
        elif length == 127:
            length = int.from_bytes(take(8), "big")
        mask = take(4) if second & 0x80 else b"\\0\\0\\0\\0"
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(take(length)))
        if first & 0x0F == 8:
            conn.sendall(b"\\x88\\x00")
            return
        reply = b"echo:" + payload
        conn.sendall(bytes([0x81, len(reply)]) + reply)
def run(conn):
    try:
        serve(conn)
    except Exception:
        pass
    conn.close()
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("0.0.0.0", int(sys.argv[1])))
listener.listen()
while True:
    conn, _ = listener.accept()
    threading.Thread(target=run, args=(conn,), daemon=True).start()
`

/** The extproc of this one cluster (in this process, on the operator's namespace) and its Envoy. */
const front = Effect.gen(function* () {
  const server = yield* SdkServer.SdkServer
  const [extprocPort, controlPort] = yield* FreePorts.freePorts(2)
  yield* Layer.build(
    Extproc.layer.pipe(
      Layer.provide(
        ExtprocConfig.layer({
          ...ExtprocConfig.defaults("a" as SandboxIdFormat.ClusterTag, `127.0.0.1:${server.port}`),
          port: extprocPort!,
          controlPort: controlPort!,
          domain: server.domain,
          watchNamespace: server.namespace,
          systemNamespace: server.systemNamespace,
        }),
      ),
      Layer.provide(Layer.succeed(KubeClient.KubeClient, yield* KubeClient.KubeClient)),
    ),
  )
  return yield* Envoy.start({ name: "envoy-realnode", extprocHost: "127.0.0.1", extprocPort: extprocPort! })
})

interface Reply {
  readonly status: number
  readonly body: string
}

/** GET through Envoy with the sandbox's host name. */
const get = (envoyPort: number, host: string, path: string) =>
  Effect.async<Reply, Error>((resume) => {
    const req = http.request({ host: "127.0.0.1", port: envoyPort, path, headers: { host } }, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => {
        body += chunk
      })
      res.on("end", () => resume(Effect.succeed({ status: res.statusCode ?? 0, body })))
    })
    req.on("error", (error) => resume(Effect.fail(error)))
    req.end()
  })

const echoOverWebSocket = (envoyPort: number, host: string, message: string) =>
  Effect.async<string, Error>((resume) => {
    const socket = new WebSocket(`ws://127.0.0.1:${envoyPort}/`, { headers: { host } })
    socket.on("open", () => socket.send(message))
    socket.on("message", (data) => {
      resume(Effect.succeed(String(data)))
      socket.close()
    })
    socket.on("error", (error) => resume(Effect.fail(error)))
    socket.on("unexpected-response", (_, res) => resume(Effect.fail(new Error(`HTTP ${res.statusCode}`))))
    return Effect.sync(() => socket.terminate())
  })

const env = Layer.scopedDiscard(
  Effect.flatMap(SdkServer.SdkServer, (server) =>
    SdkServer.useSdkEnvironment(SdkServer.sdkEnvironment(server, server.keys.tenantA)),
  ),
).pipe(
  Layer.provideMerge(SdkServer.layer("ports-realnode", realNodePool, 120_000)),
  // Started first, stopped last: the operator's namespace (and its Pods) goes before the node.
  Layer.provideMerge(RealNode.layerFromEnvironment()),
)

layer(env, { timeout: "600 seconds", excludeTestServices: true })(
  "any port of a sandbox on the real node, through Envoy",
  (it) => {
    it.scoped(
      "HTTP and a WebSocket reach servers started in the sandbox's container",
      () =>
        Effect.gen(function* () {
          const envoy = yield* front
          const sandbox = yield* Effect.promise(() => Sdk.Sandbox.create("base"))
          yield* Effect.addFinalizer(() => Effect.promise(() => sandbox.kill()))
          yield* Effect.promise(async () => {
            await sandbox.files.write("/tmp/site/hello.txt", "hello from the sandbox\n")
            await sandbox.files.write("/tmp/ws.py", webSocketEcho)
            await sandbox.commands.run("python3 -m http.server 8000 --bind 0.0.0.0 --directory /tmp/site", {
              background: true,
            })
            await sandbox.commands.run("python3 /tmp/ws.py 8001", { background: true })
          })

          const host = sandbox.getHost(8000)
          // The servers start in the background: nothing answers at first (Envoy's 502).
          const reply = yield* Eventually.eventually(
            Effect.filterOrFail(get(envoy.port, host, "/hello.txt"), (r) => r.status === 200),
            { timeout: "60 seconds", interval: "500 millis" },
          )
          assert.strictEqual(reply.body, "hello from the sandbox\n")

          const echo = yield* Eventually.eventually(
            echoOverWebSocket(envoy.port, sandbox.getHost(8001), "ping"),
            {
              timeout: "60 seconds",
              interval: "500 millis",
            },
          )
          assert.strictEqual(echo, "echo:ping")

          // A port nothing listens on in that container: 502 JSON naming it.
          const closed = yield* get(envoy.port, sandbox.getHost(8002), "/")
          assert.strictEqual(closed.status, 502, closed.body)
          assert.include(closed.body, `8002-${sandbox.sandboxId}`)
        }),
      300_000,
    )
  },
)
