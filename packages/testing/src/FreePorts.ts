import * as net from "node:net"
import { Effect } from "effect"
import { ControlPlaneError } from "./ControlPlaneError.ts"

const freePort = Effect.async<number, ControlPlaneError>((resume) => {
  const server = net.createServer()
  server.once("error", (cause) =>
    resume(
      Effect.fail(
        new ControlPlaneError({ component: "ports", reason: "SetupFailed", message: String(cause) }),
      ),
    ),
  )
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/**
 * `count` distinct loopback ports the kernel reports free right now. Another process could take one before
 * the component binds it (rare); the component then exits with a bind error that names the port.
 */
export const freePorts = (count: number): Effect.Effect<ReadonlyArray<number>, ControlPlaneError> =>
  Effect.gen(function* () {
    const ports = new Set<number>()
    while (ports.size < count) {
      ports.add(yield* freePort)
    }
    return [...ports]
  })
