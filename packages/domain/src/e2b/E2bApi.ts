/**
 * The E2B control plane (E2B's REST API as the published SDKs call it) on :8090, beside envd's
 * data plane. Same API keys and tenancy as the REST API (the `Authentication` middleware:
 * `X-API-Key` or a bearer token); every error is E2B's `{"code", "message"}` with its status.
 */
import { HttpApi, HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { Authentication } from "../api/Authentication.ts"
import {
  E2bBadRequest,
  E2bForbidden,
  E2bInternalError,
  E2bNotFound,
  E2bNotImplemented,
  E2bPayloadTooLarge,
  E2bStartupTimeout,
  E2bTooManyRequests,
  E2bUnauthorized,
  E2bUnavailable,
  E2bUnprocessable,
} from "./E2bErrors.ts"
import {
  ConnectSandbox,
  CreateHeaders,
  ListedSandbox,
  ListSandboxesParams,
  ListSandboxesV2Params,
  NewSandbox,
  Sandbox,
  SandboxDetail,
  SandboxRefreshRequest,
  SandboxTimeoutRequest,
} from "./E2bModels.ts"
import { withoutUnsentErrors } from "./E2bOpenApi.ts"

const SandboxPath = Schema.Struct({ sandboxID: Schema.String })

const NoContent = Schema.Void

const create = <const Name extends string>(name: Name, path: HttpApiEndpoint.PathSegment) =>
  HttpApiEndpoint.post(name, path)
    .setPayload(NewSandbox)
    .setHeaders(CreateHeaders)
    .addSuccess(Sandbox, { status: 201 })

const connect = <const Name extends string>(name: Name, path: HttpApiEndpoint.PathSegment) =>
  HttpApiEndpoint.post(name, path)
    .setPath(SandboxPath)
    .setPayload(Schema.NullOr(ConnectSandbox))
    .addSuccess(Sandbox)
    .annotate(OpenApi.Description, "A running sandbox; its timeout is extended (never shortened).")

export class E2bSandboxesGroup extends HttpApiGroup.make("sandboxes")
  .add(
    create("create", "/v2/sandboxes").annotate(
      OpenApi.Description,
      "Allocate a sandbox from the SandboxPool named by templateID (E2B JS 2.45+, newer Python).",
    ),
  )
  .add(
    create("createV1", "/sandboxes").annotate(
      OpenApi.Description,
      "The older SDKs' create (15 s default timeout).",
    ),
  )
  .add(
    HttpApiEndpoint.get("list", "/v2/sandboxes")
      .setUrlParams(ListSandboxesV2Params)
      .addSuccess(Schema.Array(ListedSandbox))
      .annotate(
        OpenApi.Description,
        "A page of the caller's sandboxes. Headers: X-Next-Token (the next page's nextToken, absent on the last page) and X-Total-Running (matches before paging).",
      ),
  )
  .add(
    HttpApiEndpoint.get("listV1", "/sandboxes")
      .setUrlParams(ListSandboxesParams)
      .addSuccess(Schema.Array(ListedSandbox))
      .annotate(OpenApi.Description, "Every matching sandbox of the caller in one reply."),
  )
  .add(HttpApiEndpoint.get("get", "/sandboxes/:sandboxID").setPath(SandboxPath).addSuccess(SandboxDetail))
  .add(
    HttpApiEndpoint.del("kill", "/sandboxes/:sandboxID")
      .setPath(SandboxPath)
      .addSuccess(NoContent, { status: 204 }),
  )
  .add(
    HttpApiEndpoint.post("setTimeout", "/sandboxes/:sandboxID/timeout")
      .setPath(SandboxPath)
      .setPayload(SandboxTimeoutRequest)
      .addSuccess(NoContent, { status: 204 })
      .annotate(OpenApi.Description, "The sandbox ends `timeout` seconds from now (shorter or longer)."),
  )
  .add(
    HttpApiEndpoint.post("refresh", "/sandboxes/:sandboxID/refreshes")
      .setPath(SandboxPath)
      .setPayload(Schema.NullOr(SandboxRefreshRequest))
      .addSuccess(NoContent, { status: 204 })
      .annotate(OpenApi.Description, "Keep-alive: extends like connect, never shortens."),
  )
  .add(connect("connect", "/v2/sandboxes/:sandboxID/connect"))
  .add(connect("connectV1", "/sandboxes/:sandboxID/connect"))
  .middleware(Authentication) {}

const notSupported = "Not supported by this server: always 501."

/**
 * E2B features of single sandboxes this server does not have: a clear 501 rather than a 404.
 * Whole E2B APIs it lacks (templates, snapshots, volumes, secrets, teams) answer 501 by path.
 */
export class E2bUnsupportedGroup extends HttpApiGroup.make("unsupported")
  .add(HttpApiEndpoint.post("pause", "/sandboxes/:sandboxID/pause").setPath(SandboxPath))
  .add(HttpApiEndpoint.post("resume", "/sandboxes/:sandboxID/resume").setPath(SandboxPath))
  .add(HttpApiEndpoint.post("snapshot", "/sandboxes/:sandboxID/snapshots").setPath(SandboxPath))
  .add(HttpApiEndpoint.post("fork", "/sandboxes/:sandboxID/fork").setPath(SandboxPath))
  .add(HttpApiEndpoint.put("network", "/sandboxes/:sandboxID/network").setPath(SandboxPath))
  .add(HttpApiEndpoint.get("metrics", "/sandboxes/:sandboxID/metrics").setPath(SandboxPath))
  .add(HttpApiEndpoint.get("allMetrics", "/sandboxes/metrics"))
  .add(HttpApiEndpoint.get("logs", "/sandboxes/:sandboxID/logs").setPath(SandboxPath))
  .add(HttpApiEndpoint.get("logsV2", "/v2/sandboxes/:sandboxID/logs").setPath(SandboxPath))
  .annotate(OpenApi.Description, notSupported)
  .middleware(Authentication) {}

export class E2bHealthGroup extends HttpApiGroup.make("health").add(
  HttpApiEndpoint.get("health", "/health").addSuccess(Schema.Struct({ status: Schema.Literal("ok") })),
) {}

/**
 * Every failure of the API is one of E2B's errors (E2bErrors.ts says when each comes), whether a
 * handler, the Authentication middleware or HttpApi itself (a body that does not decode) fails.
 */
export class E2bApi extends HttpApi.make("e2b")
  .add(E2bSandboxesGroup)
  .add(E2bUnsupportedGroup)
  .add(E2bHealthGroup)
  .addError(E2bBadRequest)
  .addError(E2bUnauthorized)
  .addError(E2bForbidden)
  .addError(E2bNotFound)
  .addError(E2bPayloadTooLarge)
  .addError(E2bUnprocessable)
  .addError(E2bTooManyRequests)
  .addError(E2bInternalError)
  .addError(E2bNotImplemented)
  .addError(E2bUnavailable)
  .addError(E2bStartupTimeout)
  .annotate(OpenApi.Title, "Agent Sandbox: E2B-compatible API")
  .annotate(OpenApi.Version, "v1")
  .annotate(OpenApi.Transform, withoutUnsentErrors)
  .annotate(
    OpenApi.Description,
    "The control plane of E2B's API as the official E2B SDKs (npm e2b, PyPI e2b 2.x) call it; templates are SandboxPools.",
  ) {}
