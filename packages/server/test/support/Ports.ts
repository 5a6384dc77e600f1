import * as net from "node:net"
import { Effect } from "effect"

/** Loopback ports free right now (the kernel picks them). */
export const freeLoopbackPorts = (count: number): Effect.Effect<ReadonlyArray<number>> =>
  Effect.promise(async () => {
    const servers = await Promise.all(
      Array.from(
        { length: count },
        () =>
          new Promise<net.Server>((resolve) => {
            const server = net.createServer()
            server.listen(0, "127.0.0.1", () => resolve(server))
          }),
      ),
    )
    const ports = servers.map((s) => (s.address() as net.AddressInfo).port)
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
    return ports
  })
