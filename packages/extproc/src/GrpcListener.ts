/**
 * A @grpc/grpc-js server for the scope: bound (port 0 picks one), started, and shut down on close
 * (in-flight streams are cancelled: Envoy's fail-closed mode answers them).
 */
import * as grpc from "@grpc/grpc-js"
import { Effect, type Scope } from "effect"
import { ExtprocError } from "./ExtprocError.ts"

export const listen = (
  name: string,
  host: string,
  port: number,
  // biome-ignore lint/suspicious/noExplicitAny: grpc-js implementations are untyped at this level
  services: ReadonlyArray<readonly [grpc.ServiceDefinition, grpc.UntypedServiceImplementation | any]>,
): Effect.Effect<number, ExtprocError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: grpc.Server; readonly port: number }, ExtprocError>((resume) => {
      // Channelz (grpc-js's per-call introspection bookkeeping) is not used here: off, it costs
      // nothing per stream.
      const server = new grpc.Server({ "grpc.max_concurrent_streams": 100_000, "grpc.enable_channelz": 0 })
      for (const [definition, implementation] of services) server.addService(definition, implementation)
      server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error === null
          ? resume(Effect.succeed({ server, port: bound }))
          : resume(
              Effect.fail(
                new ExtprocError({
                  reason: "Listen",
                  message: `${name} on ${host}:${port}: ${error.message}`,
                }),
              ),
            ),
      )
    }),
    ({ server }) => Effect.sync(() => server.forceShutdown()),
  ).pipe(
    Effect.tap(({ port: bound }) => Effect.logInfo(`${name} listening on ${host}:${bound}`)),
    Effect.map(({ port: bound }) => bound),
  )
