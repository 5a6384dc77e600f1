/**
 * Envoy's ExternalProcessor on :9002. Envoy opens one stream per HTTP request and sends the request
 * headers; the answer routes it (RouteDecision, Responses; a sandbox's own port from LocalSandboxes). A create with a body asks for the body
 * too (its templateID places it). Anything else Envoy sends passes unchanged.
 */
import type * as grpc from "@grpc/grpc-js"
import { Context, Effect, Layer } from "effect"
import type { ExtprocError } from "./ExtprocError.ts"
import * as GrpcListener from "./GrpcListener.ts"
import * as GrpcService from "./GrpcService.ts"
import type { HeaderValue } from "./gen/envoy/config/core/v3/base_pb.ts"
import {
  ExternalProcessor,
  type ProcessingRequest,
  type ProcessingResponse,
} from "./gen/envoy/service/ext_proc/v3/external_processor_pb.ts"
import { LocalSandboxes } from "./LocalSandboxes.ts"
import * as Placement from "./Placement.ts"
import * as RequestFacts from "./RequestFacts.ts"
import * as Responses from "./Responses.ts"
import * as RouteDecision from "./RouteDecision.ts"
import { RouteState, type RouteStateShape } from "./RouteState.ts"

export interface ExtProcServerOptions {
  readonly host: string
  /** 0 picks a free port (tests). */
  readonly port: number
  readonly decision: RouteDecision.DecisionOptions
  readonly headers: Responses.HeaderNames
}

export class ExtProcServer extends Context.Tag("@agent-sandbox/extproc/ExtProcServer")<
  ExtProcServer,
  { readonly port: number }
>() {}

const decoder = new TextDecoder()

const headerList = (headers: ReadonlyArray<HeaderValue>) =>
  headers.map((h) => ({ key: h.key, value: h.value !== "" ? h.value : decoder.decode(h.rawValue) }))

/** One request's conversation: its headers, and for a create its body. */
export const processor = (
  state: RouteStateShape,
  options: ExtProcServerOptions,
  now: () => number,
  lookup: RouteDecision.LocalLookup,
): ((request: ProcessingRequest) => ProcessingResponse) => {
  const local = () => state.current().local
  return (request) => {
    switch (request.request.case) {
      case "requestHeaders": {
        const facts = RequestFacts.fromHeaderList(
          headerList(request.request.value.headers?.headers ?? []),
          options.headers.via,
        )
        const at = now()
        const decision = RouteDecision.decide(
          state.current(),
          facts,
          request.request.value.endOfStream,
          at,
          options.decision,
          lookup,
        )
        const target = RequestFacts.target(facts, options.decision.domain)
        if (decision._tag === "Forward" && target._tag === "Sandbox")
          state.touch(target.sandboxId, decision.cluster, at)
        return Responses.forHeaders(decision, local(), options.headers)
      }
      case "requestBody": {
        const template = Placement.templateFromBody(request.request.value.body)
        const decision = RouteDecision.placeCreate(state.current(), template, now(), options.decision)
        return Responses.forBody(decision, local(), options.headers)
      }
      default:
        return Responses.passThrough(request.request.case)
    }
  }
}

export const layer = (
  options: ExtProcServerOptions,
): Layer.Layer<ExtProcServer, ExtprocError, RouteState | LocalSandboxes> =>
  Layer.scoped(
    ExtProcServer,
    Effect.gen(function* () {
      const state = yield* RouteState
      const clock = yield* Effect.clock
      const { lookup } = yield* LocalSandboxes
      const answer = processor(state, options, () => clock.unsafeCurrentTimeMillis(), lookup)
      const process = (call: grpc.ServerDuplexStream<ProcessingRequest, ProcessingResponse>) => {
        call.on("data", (request: ProcessingRequest) => {
          call.write(answer(request))
        })
        call.on("end", () => call.end())
        // Envoy resets the stream when its request ends early; nothing to clean up.
        call.on("error", () => undefined)
      }
      const port = yield* GrpcListener.listen("ext_proc", options.host, options.port, [
        [GrpcService.definition(ExternalProcessor), { process }],
      ])
      return { port }
    }),
  )
