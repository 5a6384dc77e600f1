/**
 * A client of a route control plane (:9003): what a cluster uses to register itself with the
 * extprocs of other clusters, and what tests and operators use to look inside.
 */
import { create, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf"
import * as grpc from "@grpc/grpc-js"
import { Effect, type Scope } from "effect"
import * as GrpcService from "./GrpcService.ts"
import {
  DeregisterClusterRequestSchema,
  EvictRouteRequestSchema,
  ListClustersRequestSchema,
  type ListClustersResponse,
  PushRouteRequestSchema,
  RegisterClusterRequestSchema,
  ReportActivityRequestSchema,
  type ReportActivityResponse,
  ReportCapacityRequestSchema,
  RouteControl,
} from "./gen/agentsandbox/routecontrol/v1/route_control_pb.ts"

export class RouteControlCallError extends Error {
  readonly _tag = "RouteControlCallError"
}

export interface RouteControlClient {
  readonly registerCluster: (
    request: MessageInitShape<typeof RegisterClusterRequestSchema>,
  ) => Effect.Effect<void, RouteControlCallError>
  readonly reportCapacity: (
    request: MessageInitShape<typeof ReportCapacityRequestSchema>,
  ) => Effect.Effect<void, RouteControlCallError>
  readonly deregisterCluster: (name: string) => Effect.Effect<void, RouteControlCallError>
  readonly pushRoute: (sandboxId: string, cluster: string) => Effect.Effect<void, RouteControlCallError>
  readonly evictRoute: (sandboxId: string) => Effect.Effect<void, RouteControlCallError>
  readonly reportActivity: (
    sandboxIds: ReadonlyArray<string>,
  ) => Effect.Effect<ReportActivityResponse, RouteControlCallError>
  readonly listClusters: Effect.Effect<ListClustersResponse, RouteControlCallError>
}

const Client = grpc.makeGenericClientConstructor(GrpcService.definition(RouteControl), "RouteControl")

/** A client of the control plane at `address` (host:port) for the scope; each call waits at most `timeoutMillis`. */
export const make = (
  address: string,
  timeoutMillis = 5_000,
): Effect.Effect<RouteControlClient, never, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => new Client(address, grpc.credentials.createInsecure())),
      (client) => Effect.sync(() => client.close()),
    ),
    (client) => {
      const call = <I extends DescMessage, O>(method: string, schema: I, init: MessageInitShape<I>) =>
        Effect.async<O, RouteControlCallError>((resume) => {
          const message: MessageShape<I> = create(schema, init)
          // biome-ignore lint/suspicious/noExplicitAny: generic clients are untyped
          ;(client as any)[method](
            message,
            { deadline: Date.now() + timeoutMillis },
            (error: grpc.ServiceError | null, reply: O) =>
              resume(
                error === null
                  ? Effect.succeed(reply)
                  : Effect.fail(new RouteControlCallError(`${method} at ${address}: ${error.message}`)),
              ),
          )
        })
      return {
        registerCluster: (request) =>
          Effect.asVoid(call("registerCluster", RegisterClusterRequestSchema, request)),
        reportCapacity: (request) =>
          Effect.asVoid(call("reportCapacity", ReportCapacityRequestSchema, request)),
        deregisterCluster: (name) =>
          Effect.asVoid(call("deregisterCluster", DeregisterClusterRequestSchema, { name })),
        pushRoute: (sandboxId, cluster) =>
          Effect.asVoid(call("pushRoute", PushRouteRequestSchema, { sandboxId, cluster })),
        evictRoute: (sandboxId) => Effect.asVoid(call("evictRoute", EvictRouteRequestSchema, { sandboxId })),
        reportActivity: (sandboxIds) =>
          call<typeof ReportActivityRequestSchema, ReportActivityResponse>(
            "reportActivity",
            ReportActivityRequestSchema,
            {
              sandboxIds: [...sandboxIds],
            },
          ),
        listClusters: call<typeof ListClustersRequestSchema, ListClustersResponse>(
          "listClusters",
          ListClustersRequestSchema,
          {},
        ),
      }
    },
  )
