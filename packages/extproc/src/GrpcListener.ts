/**
 * A @grpc/grpc-js server for the scope: bound (port 0 picks one), started, and shut down on close
 * (in-flight streams are cancelled: Envoy's fail-closed mode answers them).
 */
import * as grpc from "@grpc/grpc-js"
import { Effect, type Scope } from "effect"
import { ExtprocError } from "./ExtprocError.ts"

/**
 * Envoy resets each ext_proc stream when its HTTP request is done: one RST_STREAM per request.
 * Node's HTTP/2 server takes more than 33 resets a second (after a burst of 1,000) for a "rapid
 * reset" attack and ends the session, and Envoy then fails every request on it (fail closed:
 * 500s, measured by bench:extproc at c=64, gone with these limits). :9002 serves Envoy only, so
 * the limits sit far above any request rate. grpc-js has no option for them; they are added to
 * the options it hands to http2.createServer.
 */
export const streamResetLimits = { streamResetBurst: 1_000_000, streamResetRate: 1_000_000 } as const

const withStreamResetLimits = (server: grpc.Server): grpc.Server => {
  const internal = server as unknown as { commonServerOptions?: Record<string, unknown> }
  if (internal.commonServerOptions === undefined)
    throw new Error("@grpc/grpc-js: no commonServerOptions to set Node's HTTP/2 stream reset limits on")
  Object.assign(internal.commonServerOptions, streamResetLimits)
  return server
}

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
      const server = withStreamResetLimits(
        new grpc.Server({ "grpc.max_concurrent_streams": 100_000, "grpc.enable_channelz": 0 }),
      )
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
