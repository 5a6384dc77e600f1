import * as net from "node:net"
import * as k8s from "@kubernetes/client-node"
import { Effect, type Scope } from "effect"

/**
 * A loopback TCP proxy in front of the API server that can stall: from `stall` on, every request
 * through it waits forever for its answer, as against an API server whose etcd is gone (it accepts
 * connections and requests, and answers none). TLS passes through untouched (the server's
 * certificate names 127.0.0.1).
 */
export interface StallingProxy {
  /** A copy of `config` whose current cluster is reached through the proxy. */
  readonly kubeConfig: k8s.KubeConfig
  readonly stall: Effect.Effect<void>
}

export const make = (config: k8s.KubeConfig): Effect.Effect<StallingProxy, Error, Scope.Scope> =>
  Effect.gen(function* () {
    const cluster = config.getCurrentCluster()
    if (cluster === null) return yield* Effect.fail(new Error("the kubeconfig has no current cluster"))
    const target = new URL(cluster.server)
    let stalled = false
    const sockets = new Set<net.Socket>()
    const server = net.createServer((client) => {
      sockets.add(client)
      client.on("error", () => client.destroy())
      const upstream = net.connect(Number(target.port), target.hostname)
      sockets.add(upstream)
      // A connection opened after the stall still gets its TLS handshake (the client's first flight
      // goes through, the server's answers come back) so that the client sends its request; nothing
      // after that reaches the API server. Before the stall, everything passes.
      const openedStalled = stalled
      let clientChunks = 0
      client.on("data", (chunk) => {
        clientChunks++
        if (openedStalled ? clientChunks === 1 : !stalled) upstream.write(chunk)
      })
      upstream.on("data", (chunk) => {
        if (openedStalled || !stalled) client.write(chunk)
      })
      // Nor does the API server giving up on the connection reach the client once stalled.
      upstream.on("error", () => upstream.destroy())
      upstream.on("close", () => {
        if (!stalled) client.destroy()
      })
      client.on("close", () => upstream.destroy())
    })
    const port = yield* Effect.acquireRelease(
      Effect.async<number, Error>((resume) => {
        server.once("error", (cause) => resume(Effect.fail(cause)))
        server.listen(0, "127.0.0.1", () =>
          resume(Effect.succeed((server.address() as net.AddressInfo).port)),
        )
      }),
      () =>
        Effect.async<void>((resume) => {
          for (const socket of sockets) socket.destroy()
          server.close(() => resume(Effect.void))
        }),
    )
    const kubeConfig = new k8s.KubeConfig()
    kubeConfig.loadFromOptions({
      clusters: config.clusters.map((c) =>
        c.name === cluster.name ? { ...c, server: `https://127.0.0.1:${port}` } : c,
      ),
      users: config.users,
      contexts: config.contexts,
      currentContext: config.getCurrentContext(),
    })
    return {
      kubeConfig,
      stall: Effect.sync(() => {
        stalled = true
      }),
    }
  })
