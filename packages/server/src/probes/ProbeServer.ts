import { Sandboxes } from "@agent-sandbox/operator"
import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer, Ref } from "effect"
import { ApiKeys } from "../auth/ApiKeys.ts"
import { closingServer } from "../ClosingServer.ts"
import { ServerConfig } from "../ServerConfig.ts"

/**
 * Probes on :8081. /healthz: the process serves. /readyz: every watch has listed once, so
 * allocations and key checks answer from a complete picture.
 */
export const layer = Layer.unwrapScoped(
  Effect.gen(function* () {
    const config = yield* ServerConfig
    const sandboxes = yield* Sandboxes.Sandboxes
    const keys = yield* ApiKeys
    const ready = yield* Ref.make(false)
    yield* Effect.forkScoped(Effect.zipRight(Effect.all([sandboxes.ready, keys.ready]), Ref.set(ready, true)))
    const router = HttpRouter.empty.pipe(
      HttpRouter.get("/healthz", HttpServerResponse.text("ok")),
      HttpRouter.get(
        "/readyz",
        Effect.map(Ref.get(ready), (isReady) =>
          isReady
            ? HttpServerResponse.text("ready")
            : HttpServerResponse.text("watches not synced yet", { status: 503 }),
        ),
      ),
    )
    return HttpServer.serve(router).pipe(
      Layer.provide(
        NodeHttpServer.layer(closingServer(config.maxWaitMillis + 1000), {
          port: config.probePort,
          host: config.host,
        }),
      ),
    )
  }),
)
