/**
 * The route control plane on :9003 (gRPC, agentsandbox.routecontrol.v1.RouteControl): clusters
 * register their gateway and report warm capacity per template (each report is also a sign of
 * life), routes are pinned and evicted, and the activity this extproc saw is read back.
 */
import type * as grpc from "@grpc/grpc-js"
import { Clock, Context, Data, Effect, Layer, Runtime } from "effect"
import * as ClusterTable from "./ClusterTable.ts"
import type { ExtprocError } from "./ExtprocError.ts"
import * as Gateway from "./Gateway.ts"
import * as GrpcListener from "./GrpcListener.ts"
import * as GrpcService from "./GrpcService.ts"
import { RouteControl, type TemplateCapacity } from "./gen/agentsandbox/routecontrol/v1/route_control_pb.ts"
import { RouteState } from "./RouteState.ts"

export class RouteControlServer extends Context.Tag("@agent-sandbox/extproc/RouteControlServer")<
  RouteControlServer,
  { readonly port: number }
>() {}

/** A request the control plane refuses, with gRPC's status code. */
class Refused extends Data.TaggedClass("Refused")<{ readonly code: grpc.status; readonly message: string }> {}

const INVALID_ARGUMENT = 3
const NOT_FOUND = 5

const capacityOf = (
  capacity: ReadonlyArray<TemplateCapacity>,
): ReadonlyArray<ClusterTable.TemplateCapacity> =>
  capacity.map((c) => ({ template: c.template, warm: c.warm }))

const checkName = (name: string) =>
  name === ""
    ? Effect.fail(new Refused({ code: INVALID_ARGUMENT, message: "name is required" }))
    : Effect.void

export const layer = (options: {
  readonly host: string
  readonly port: number
}): Layer.Layer<RouteControlServer, ExtprocError, RouteState> =>
  Layer.scoped(
    RouteControlServer,
    Effect.gen(function* () {
      const state = yield* RouteState
      const runtime = yield* Effect.runtime<never>()
      /** A unary handler from an Effect: a Refused becomes its gRPC status, a defect INTERNAL. */
      const unary =
        <I, O>(handle: (request: I) => Effect.Effect<O, Refused>) =>
        (call: grpc.ServerUnaryCall<I, O>, callback: grpc.sendUnaryData<O>) =>
          Runtime.runCallback(runtime)(Effect.either(handle(call.request)), {
            onExit: (exit) => {
              if (exit._tag === "Failure") return callback({ code: 13, message: String(exit.cause) }, null)
              const result = exit.value
              return result._tag === "Right"
                ? callback(null, result.right)
                : callback({ code: result.left.code, message: result.left.message }, null)
            },
          })
      const implementation = {
        registerCluster: unary(
          (request: { name: string; gateway: string; capacity: Array<TemplateCapacity> }) =>
            Effect.gen(function* () {
              yield* checkName(request.name)
              const gateway = yield* Gateway.resolve(request.gateway).pipe(
                Effect.mapError((error) => new Refused({ code: INVALID_ARGUMENT, message: error.message })),
              )
              const now = yield* Clock.currentTimeMillis
              yield* state.update((table) =>
                ClusterTable.register(table, {
                  name: request.name,
                  gateway,
                  capacity: capacityOf(request.capacity),
                  lastReport: now,
                }),
              )
              return {}
            }),
        ),
        reportCapacity: unary((request: { name: string; capacity: Array<TemplateCapacity> }) =>
          Effect.gen(function* () {
            yield* checkName(request.name)
            const now = yield* Clock.currentTimeMillis
            const next = ClusterTable.reportCapacity(
              state.current(),
              request.name,
              capacityOf(request.capacity),
              now,
            )
            if (next === undefined) {
              return yield* Effect.fail(
                new Refused({ code: NOT_FOUND, message: `cluster ${request.name} is not registered` }),
              )
            }
            yield* state.update(() => next)
            return {}
          }),
        ),
        deregisterCluster: unary((request: { name: string }) =>
          Effect.as(
            Effect.zipRight(
              checkName(request.name),
              state.update((t) => ClusterTable.deregister(t, request.name)),
            ),
            {},
          ),
        ),
        pushRoute: unary((request: { sandboxId: string; cluster: string }) =>
          request.sandboxId === "" || request.cluster === ""
            ? Effect.fail(
                new Refused({ code: INVALID_ARGUMENT, message: "sandboxId and cluster are required" }),
              )
            : Effect.as(
                state.update((t) => ClusterTable.pushRoute(t, request.sandboxId, request.cluster)),
                {},
              ),
        ),
        evictRoute: unary((request: { sandboxId: string }) =>
          Effect.as(
            state.update((t) => ClusterTable.evictRoute(t, request.sandboxId)),
            {},
          ),
        ),
        reportActivity: unary((request: { sandboxIds: Array<string> }) =>
          Effect.map(state.activity(request.sandboxIds), (activity) => ({
            activity: activity.map((a) => ({
              sandboxId: a.sandboxId,
              cluster: a.cluster,
              lastRequestUnixMs: BigInt(a.lastRequest),
            })),
          })),
        ),
        listClusters: unary(() =>
          Effect.sync(() => {
            const table = state.current()
            return {
              clusters: [...table.clusters.values()].map((c) => ({
                name: c.name,
                gateway: c.gateway,
                capacity: [...c.capacity],
                lastReportUnixMs: BigInt(c.lastReport ?? 0),
                local: c.name === table.local,
              })),
            }
          }),
        ),
      }
      const port = yield* GrpcListener.listen("route control", options.host, options.port, [
        [GrpcService.definition(RouteControl), implementation],
      ])
      return { port }
    }),
  )
