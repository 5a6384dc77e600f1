/**
 * Envoy's ExternalProcessor on :9002. Envoy opens one stream per HTTP request and sends the request
 * headers; the answer routes it (RouteDecision, Responses; a sandbox's own port from LocalSandboxes).
 * A create with a body asks for the body too (its templateID places it). Anything else Envoy sends
 * passes unchanged. Answers are synchronous, except for a port of a local sandbox the cache lacks:
 * that one waits for one bounded API-server lookup (LocalSandboxes.lookupMissed).
 */
import type * as grpc from "@grpc/grpc-js"
import { Context, Effect, Layer, Runtime } from "effect"
import type { ExtprocError } from "./ExtprocError.ts"
import * as GrpcListener from "./GrpcListener.ts"
import * as GrpcService from "./GrpcService.ts"
import type { HeaderValue } from "./gen/envoy/config/core/v3/base_pb.ts"
import {
  ExternalProcessor,
  type ProcessingRequest,
  type ProcessingResponse,
} from "./gen/envoy/service/ext_proc/v3/external_processor_pb.ts"
import type * as LocalSandbox from "./LocalSandbox.ts"
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

/** The headers a decision reads, decoded; the rest of a request's headers are skipped. */
const headerList = (headers: ReadonlyArray<HeaderValue>, via: string) => {
  const read: Array<{ key: string; value: string }> = []
  for (const h of headers) {
    if (RequestFacts.readHeaders.has(h.key) || h.key === via)
      read.push({ key: h.key, value: h.value !== "" ? h.value : decoder.decode(h.rawValue) })
  }
  return read
}

/**
 * An answer: most at once; a port of a local sandbox missing from the cache after one lookup (the
 * sandbox id, and the answer once the lookup has found it or not).
 */
export type Answer =
  | ProcessingResponse
  | {
      readonly _tag: "LookUp"
      readonly sandboxId: string
      readonly answer: (found: LocalSandbox.PortFacts | undefined) => ProcessingResponse
    }

/** One request's conversation: its headers, and for a create its body. */
export const processor = (
  state: RouteStateShape,
  options: ExtProcServerOptions,
  now: () => number,
  lookup: RouteDecision.LocalLookup,
): ((request: ProcessingRequest) => Answer) => {
  const local = () => state.current().local
  const headersAnswer = (
    facts: RequestFacts.RequestHeaders,
    target: RequestFacts.RequestTarget,
    endOfStream: boolean,
    lookupNow: RouteDecision.LocalLookup,
  ) => {
    const at = now()
    const decision = RouteDecision.decide(
      state.current(),
      facts,
      endOfStream,
      at,
      options.decision,
      lookupNow,
    )
    if (decision._tag === "Forward" && target._tag === "Sandbox")
      state.touch(target.sandboxId, decision.cluster, at)
    return Responses.forHeaders(decision, local(), options.headers)
  }
  return (request) => {
    switch (request.request.case) {
      case "requestHeaders": {
        const { headers, endOfStream } = request.request.value
        const facts = RequestFacts.fromHeaderList(
          headerList(headers?.headers ?? [], options.headers.via),
          options.headers.via,
        )
        const target = RequestFacts.target(facts, options.decision.domain)
        const missed = RouteDecision.localPortMiss(state.current(), target, lookup)
        if (missed === undefined) return headersAnswer(facts, target, endOfStream, lookup)
        return {
          _tag: "LookUp",
          sandboxId: missed,
          answer: (found) =>
            headersAnswer(facts, target, endOfStream, (id) => (id === missed ? found : lookup(id))),
        }
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
      const { lookup, lookupMissed } = yield* LocalSandboxes
      const runCallback = Runtime.runCallback(yield* Effect.runtime<never>())
      const answer = processor(state, options, () => clock.unsafeCurrentTimeMillis(), lookup)
      const process = (call: grpc.ServerDuplexStream<ProcessingRequest, ProcessingResponse>) => {
        // Envoy closes the stream once the request is done. Closing it from here after a settling
        // answer was measured (bench:extproc) to cost more CPU per request, not less.
        const send = (response: ProcessingResponse) => {
          if (!call.cancelled) call.write(response)
        }
        call.on("data", (request: ProcessingRequest) => {
          const answered = answer(request)
          if (!("_tag" in answered)) return send(answered)
          // Envoy sends nothing more on this stream until it has this answer: order is kept.
          runCallback(lookupMissed(answered.sandboxId), {
            onExit: (exit) => send(answered.answer(exit._tag === "Success" ? exit.value : undefined)),
          })
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
