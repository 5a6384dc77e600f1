/**
 * The two gRPC servers over real gRPC (grpc-js clients on loopback): what Envoy's ext_proc filter
 * gets back for a request's headers and a create's body, and the route control plane changing the
 * table those answers come from.
 */
import type { SandboxIdFormat } from "@agent-sandbox/domain"
import { create, fromBinary, toBinary } from "@bufbuild/protobuf"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as ClusterTable from "../src/ClusterTable.ts"
import * as ExtProcServer from "../src/ExtProcServer.ts"
import {
  ProcessingRequestSchema,
  ProcessingResponseSchema,
} from "../src/gen/envoy/service/ext_proc/v3/external_processor_pb.ts"
import * as LocalSandboxes from "../src/LocalSandboxes.ts"
import * as Responses from "../src/Responses.ts"
import * as RouteControlClient from "../src/RouteControlClient.ts"
import * as RouteControlServer from "../src/RouteControlServer.ts"
import * as RouteState from "../src/RouteState.ts"
import * as StaticConfig from "../src/StaticConfig.ts"
import { converse, headers, setHeaders } from "./support/Wire.ts"

const servers = Layer.mergeAll(
  ExtProcServer.layer({
    host: "127.0.0.1",
    port: 0,
    decision: { domain: "sandbox.test", staleAfterMillis: 60_000 },
    headers: Responses.defaultHeaderNames,
  }),
  RouteControlServer.layer({ host: "127.0.0.1", port: 0 }),
).pipe(
  Layer.provide(LocalSandboxes.layerFrom(() => undefined)),
  Layer.provideMerge(
    RouteState.layer({
      initial: ClusterTable.make("a" as SandboxIdFormat.ClusterTag, "127.0.0.1:8090"),
      maxActivity: 2,
    }),
  ),
)

describe("the extproc's gRPC servers", () => {
  it("round-trips its messages through the generated code", () => {
    const message = headers({ ":path": "/" })
    assert.deepStrictEqual(
      fromBinary(ProcessingRequestSchema, toBinary(ProcessingRequestSchema, message)),
      message,
    )
    const answer = Responses.forHeaders(
      { _tag: "Reject", status: 503, message: "gone" },
      "a",
      Responses.defaultHeaderNames,
    )
    const decoded = fromBinary(ProcessingResponseSchema, toBinary(ProcessingResponseSchema, answer))
    assert.strictEqual(decoded.response.case, "immediateResponse")
  })

  it.layer(servers)((it) => {
    it.scoped("routes by the table the control plane keeps", () =>
      Effect.gen(function* () {
        const extproc = yield* ExtProcServer.ExtProcServer
        const control = yield* RouteControlServer.RouteControlServer
        const client = yield* RouteControlClient.make(`127.0.0.1:${control.port}`)

        // Unknown cluster: an immediate JSON 404.
        const [unknown] = yield* converse(extproc.port, [
          headers({ ":path": "/health", "e2b-sandbox-id": "b-xyz" }),
        ])
        assert.strictEqual(unknown?.response.case, "immediateResponse")
        const immediate = unknown?.response.case === "immediateResponse" ? unknown.response.value : undefined
        assert.strictEqual(immediate?.status?.code, 404)
        assert.deepStrictEqual(JSON.parse(new TextDecoder().decode(immediate?.body)), {
          code: 404,
          message: "sandbox b-xyz: cluster b is not known here",
        })

        yield* client.registerCluster({
          name: "b",
          gateway: "127.0.0.2:10000",
          capacity: [{ template: "base", warm: 2 }],
        })
        const [remote] = yield* converse(extproc.port, [
          headers({ ":path": "/health", "e2b-sandbox-id": "b-xyz" }),
        ])
        assert.deepStrictEqual(setHeaders(remote), {
          "x-agent-sandbox-upstream": "127.0.0.2:10000",
          "x-agent-sandbox-cluster": "b",
          "x-agent-sandbox-via": "a",
        })

        // A create: the body is asked for, its templateID places it on b (2 warm there, none here).
        const body = create(ProcessingRequestSchema, {
          request: {
            case: "requestBody",
            value: { body: new TextEncoder().encode('{"templateID":"base"}'), endOfStream: true },
          },
        })
        const [askBody, placed] = yield* converse(extproc.port, [
          headers({ ":method": "POST", ":path": "/v2/sandboxes" }, false),
          body,
        ])
        assert.strictEqual(askBody?.modeOverride?.requestBodyMode, 2)
        assert.strictEqual(placed?.response.case, "requestBody")
        assert.strictEqual(setHeaders(placed)["x-agent-sandbox-cluster"], "b")

        // Activity: what was reached through here, bounded (maxActivity 2).
        yield* converse(extproc.port, [headers({ ":path": "/health", "e2b-sandbox-id": "a-one" })])
        yield* converse(extproc.port, [headers({ ":path": "/health", "e2b-sandbox-id": "a-two" })])
        const activity = yield* client.reportActivity([])
        assert.deepStrictEqual(
          activity.activity.map((a) => a.sandboxId),
          ["a-one", "a-two"],
        )

        // Bad input is refused with INVALID_ARGUMENT, nothing changed.
        const refused = yield* Effect.flip(client.registerCluster({ name: "c", gateway: "no-port" }))
        assert.include(refused.message, "is not host:port")
        const listed = yield* client.listClusters
        assert.deepStrictEqual(listed.clusters.map((c) => c.name).sort(), ["a", "b"])

        yield* client.deregisterCluster("b")
        const [gone] = yield* converse(extproc.port, [
          headers({ ":path": "/health", "e2b-sandbox-id": "b-xyz" }),
        ])
        assert.strictEqual(gone?.response.case, "immediateResponse")
      }),
    )
  })

  it.effect("reads the static config file, refusing what it does not know", () =>
    Effect.gen(function* () {
      const config = yield* StaticConfig.parse(
        "clusters:\n  - name: west\n    gateway: 127.0.0.9:10000\nroutes:\n  - sandboxId: plainid\n    cluster: west\n",
        "test.yaml",
      )
      const clusters = yield* StaticConfig.clusters(config)
      assert.deepStrictEqual(clusters, [
        { name: "west", gateway: "127.0.0.9:10000", capacity: [], lastReport: undefined },
      ])
      const bad = yield* Effect.flip(
        StaticConfig.parse("clusters:\n  - name: West\n    gateway: x:1\n", "bad.yaml"),
      )
      assert.strictEqual(bad.reason, "Config")
      const extra = yield* Effect.flip(StaticConfig.parse("cluster: []\n", "extra.yaml"))
      assert.include(extra.message, "extra.yaml")
    }),
  )
})
