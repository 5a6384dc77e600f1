/**
 * A decision as Envoy's ext_proc answer (pure): a forward sets the upstream header Envoy's
 * ORIGINAL_DST cluster reads (and the loop guard header when it leaves this cluster) and clears the
 * route cache; a rejection is an immediate E2B-style JSON reply.
 */
import { create } from "@bufbuild/protobuf"
import {
  HeaderValueOption_HeaderAppendAction,
  HeaderValueOptionSchema,
} from "./gen/envoy/config/core/v3/base_pb.ts"
import { ProcessingMode_BodySendMode } from "./gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode_pb.ts"
import {
  BodyResponseSchema,
  CommonResponseSchema,
  HeaderMutationSchema,
  HeadersResponseSchema,
  ImmediateResponseSchema,
  type ProcessingResponse,
  ProcessingResponseSchema,
  TrailersResponseSchema,
} from "./gen/envoy/service/ext_proc/v3/external_processor_pb.ts"
import { HttpStatusSchema, type StatusCode } from "./gen/envoy/type/v3/http_status_pb.ts"
import type { Decision } from "./RouteDecision.ts"

export interface HeaderNames {
  /** Read by Envoy's ORIGINAL_DST cluster (`http_header_name`): `ip:port`. */
  readonly upstream: string
  /** The loop guard: set to this cluster's name when a request leaves for another cluster. */
  readonly via: string
  /** The cluster chosen, for the upstream's logs. */
  readonly cluster: string
  /**
   * `<port>-<id>` when the upstream is a sandbox's own port: Envoy's local reply for a failed
   * connection reads it (a port nobody listens on is 502, not "cluster unavailable"). Removed from
   * every other request, so a caller cannot set it.
   */
  readonly sandboxPort: string
}

export const defaultHeaderNames: HeaderNames = {
  upstream: "x-agent-sandbox-upstream",
  via: "x-agent-sandbox-via",
  cluster: "x-agent-sandbox-cluster",
  sandboxPort: "x-agent-sandbox-port",
}

const encoder = new TextEncoder()

const set = (key: string, value: string) =>
  create(HeaderValueOptionSchema, {
    header: { key, rawValue: encoder.encode(value) },
    appendAction: HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD,
  })

const forward = (decision: Extract<Decision, { _tag: "Forward" }>, local: string, names: HeaderNames) =>
  create(CommonResponseSchema, {
    headerMutation: create(HeaderMutationSchema, {
      setHeaders: [
        set(names.upstream, decision.upstream),
        set(names.cluster, decision.cluster),
        ...(decision.remote ? [set(names.via, local)] : []),
        ...(decision.sandboxPort === undefined ? [] : [set(names.sandboxPort, decision.sandboxPort)]),
      ],
      removeHeaders: decision.sandboxPort === undefined ? [names.sandboxPort] : [],
    }),
    clearRouteCache: true,
  })

/** The E2B SDKs read `{code, message}` from an error body. */
export const errorBody = (status: number, message: string): string =>
  JSON.stringify({ code: status, message })

const reject = (status: number, message: string): ProcessingResponse =>
  create(ProcessingResponseSchema, {
    response: {
      case: "immediateResponse",
      value: create(ImmediateResponseSchema, {
        status: create(HttpStatusSchema, { code: status as StatusCode }),
        headers: create(HeaderMutationSchema, { setHeaders: [set("content-type", "application/json")] }),
        body: encoder.encode(errorBody(status, message)),
        details: "agent_sandbox_extproc",
      }),
    },
  })

/** The answer to a request's headers. */
export const forHeaders = (decision: Decision, local: string, names: HeaderNames): ProcessingResponse => {
  switch (decision._tag) {
    case "Forward":
      return create(ProcessingResponseSchema, {
        response: {
          case: "requestHeaders",
          value: create(HeadersResponseSchema, { response: forward(decision, local, names) }),
        },
      })
    case "ReadBody":
      return create(ProcessingResponseSchema, {
        response: { case: "requestHeaders", value: create(HeadersResponseSchema) },
        modeOverride: { requestBodyMode: ProcessingMode_BodySendMode.BUFFERED },
      })
    case "Reject":
      return reject(decision.status, decision.message)
  }
}

/** The answer to a buffered request body (a create, once its templateID is known). */
export const forBody = (decision: Decision, local: string, names: HeaderNames): ProcessingResponse => {
  switch (decision._tag) {
    case "Forward":
      return create(ProcessingResponseSchema, {
        response: {
          case: "requestBody",
          value: create(BodyResponseSchema, { response: forward(decision, local, names) }),
        },
      })
    case "ReadBody":
      return reject(500, "the body of a request was asked for twice")
    case "Reject":
      return reject(decision.status, decision.message)
  }
}

/** Envoy sent a phase this processor does not ask for: let it pass unchanged. */
export const passThrough = (phase: ProcessingResponse["response"]["case"]): ProcessingResponse => {
  switch (phase) {
    case "responseHeaders":
      return create(ProcessingResponseSchema, {
        response: { case: "responseHeaders", value: create(HeadersResponseSchema) },
      })
    case "responseBody":
      return create(ProcessingResponseSchema, {
        response: { case: "responseBody", value: create(BodyResponseSchema) },
      })
    case "requestTrailers":
      return create(ProcessingResponseSchema, {
        response: { case: "requestTrailers", value: create(TrailersResponseSchema) },
      })
    case "responseTrailers":
      return create(ProcessingResponseSchema, {
        response: { case: "responseTrailers", value: create(TrailersResponseSchema) },
      })
    default:
      return create(ProcessingResponseSchema, {
        response: { case: "requestBody", value: create(BodyResponseSchema) },
      })
  }
}
