import { HttpApi, HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { KeysGroup, PoolAdminGroup } from "./AdminGroups.ts"
import {
  CapacityUnavailable,
  ClusterUnavailable,
  ImageNotAllowed,
  InvalidRequest,
  PayloadTooLarge,
  PoolNotFound,
  QuotaExceeded,
  SandboxImageFailed,
  SandboxNotFound,
  SandboxStartupTimeout,
  TooManyWaiting,
} from "./ApiErrors.ts"
import { Authentication } from "./Authentication.ts"
import {
  BatchCreateSandboxesRequest,
  CreateSandboxRequest,
  ExtendTimeoutRequest,
  ListSandboxesParams,
  PoolSummary,
  Sandbox,
  SandboxBatch,
  SandboxPage,
  TemplateSummary,
} from "./SandboxModels.ts"
import { TerminalGrant } from "./TerminalModels.ts"

const SandboxId = Schema.Struct({ id: Schema.String })

export class SandboxesGroup extends HttpApiGroup.make("sandboxes")
  .add(
    HttpApiEndpoint.post("create", "/v1/sandboxes")
      .setPayload(CreateSandboxRequest)
      .addSuccess(Sandbox, { status: 201 })
      .addError(PoolNotFound)
      .addError(InvalidRequest)
      .addError(CapacityUnavailable)
      .addError(TooManyWaiting)
      .addError(ImageNotAllowed)
      .addError(QuotaExceeded)
      .addError(SandboxImageFailed)
      .addError(SandboxStartupTimeout)
      .annotate(
        OpenApi.Description,
        "Allocate a sandbox from a warm pool; waits (bounded) when the pool is empty. With a runtime or an image the warm Pod switches its sandbox container to that image in place (a Pod already on it is preferred) and, unless wait is false, the answer waits until it is Ready on it.",
      ),
  )
  .add(
    HttpApiEndpoint.post("createBatch", "/v1/sandboxes/batch")
      .setPayload(BatchCreateSandboxesRequest)
      .addSuccess(SandboxBatch, { status: 201 })
      .addError(PoolNotFound)
      .addError(InvalidRequest)
      .addError(CapacityUnavailable)
      .addError(TooManyWaiting)
      .addError(ImageNotAllowed)
      .addError(QuotaExceeded)
      .addError(SandboxImageFailed)
      .addError(SandboxStartupTimeout)
      .annotate(OpenApi.Description, "Allocate `count` sandboxes at once, all or none (for RL rollouts)."),
  )
  .add(
    HttpApiEndpoint.get("get", "/v1/sandboxes/:id")
      .setPath(SandboxId)
      .addSuccess(Sandbox)
      .addError(SandboxNotFound),
  )
  .add(
    HttpApiEndpoint.get("list", "/v1/sandboxes")
      .setUrlParams(ListSandboxesParams)
      .addSuccess(SandboxPage)
      .addError(InvalidRequest),
  )
  .add(
    HttpApiEndpoint.post("extendTimeout", "/v1/sandboxes/:id/timeout")
      .setPath(SandboxId)
      .setPayload(ExtendTimeoutRequest)
      .addSuccess(Sandbox)
      .addError(SandboxNotFound)
      .addError(InvalidRequest)
      .annotate(
        OpenApi.Description,
        "Set the sandbox to expire `timeoutSeconds` from now (capped by the pool).",
      ),
  )
  .add(
    HttpApiEndpoint.post("terminalToken", "/v1/sandboxes/:id/terminal-token")
      .setPath(SandboxId)
      .addSuccess(TerminalGrant, { status: 201 })
      .addError(SandboxNotFound)
      .annotate(
        OpenApi.Description,
        "A single-use, short-lived token that opens one terminal (a shell under a TTY) in the sandbox through wsproxy's WebSocket at `path`.",
      ),
  )
  .add(
    HttpApiEndpoint.del("delete", "/v1/sandboxes/:id")
      .setPath(SandboxId)
      .addSuccess(Schema.Void, { status: 204 })
      .addError(SandboxNotFound),
  )
  .addError(ClusterUnavailable)
  .middleware(Authentication) {}

export class PoolsGroup extends HttpApiGroup.make("pools")
  .add(
    HttpApiEndpoint.get("listPools", "/v1/pools")
      .addSuccess(Schema.Array(PoolSummary))
      .annotate(OpenApi.Description, "The pools the key may allocate from (an admin key: every pool)."),
  )
  .add(
    HttpApiEndpoint.get("listTemplates", "/v1/templates")
      .addSuccess(Schema.Array(TemplateSummary))
      .annotate(
        OpenApi.Description,
        "The SandboxTemplates of the pools the key may allocate from (an admin key: every template).",
      ),
  )
  .addError(ClusterUnavailable)
  .middleware(Authentication) {}

/** The REST API on :8080; the typed client and the OpenAPI document derive from it. */
export class SandboxApi extends HttpApi.make("agent-sandbox")
  .add(SandboxesGroup)
  .add(PoolsGroup)
  .add(PoolAdminGroup)
  .add(KeysGroup)
  // Any route with a body: refused before it is read whole (ServerConfig bodyLimits).
  .addError(PayloadTooLarge)
  .annotate(OpenApi.Title, "Agent Sandbox")
  .annotate(OpenApi.Version, "v1")
  .annotate(OpenApi.Description, "Warm sandbox Pods on Kubernetes, allocated in milliseconds.") {}
