import {
  type CreateSandboxRequest,
  CurrentTenant,
  InvalidRequest,
  PoolSummary,
  SandboxApi,
  SandboxBatch,
  SandboxPage,
  sandboxContainerOf,
  TemplateSummary,
} from "@agent-sandbox/domain"
import { Sandboxes } from "@agent-sandbox/operator"
import { HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import { Clock, Effect, Either, Schema } from "effect"
import * as AllocationRequests from "../auth/AllocationRequests.ts"
import * as Caller from "../auth/Caller.ts"
import { ServerConfig } from "../ServerConfig.ts"
import { TenantGate } from "../tenancy/TenantGate.ts"
import * as TenantPolicy from "../tenancy/TenantPolicy.ts"
import * as TerminalGrants from "../terminal/TerminalGrants.ts"
import { TerminalTokenKey } from "../terminal/TerminalTokenKey.ts"
import * as SandboxView from "./SandboxView.ts"

const caller = Caller.current

const decodeCursor = Schema.decodeUnknownEither(SandboxView.Cursor)

/**
 * The create's 201, as the endpoint declares it (its `Sandbox` schema, JSON), built in one
 * synchronous step: HttpApi would encode it as an Effect through a union of response schemas,
 * looking its status and encoding up again on every answer, for every claim.
 */
const created = (allocated: Sandboxes.AllocatedSandbox) =>
  HttpServerResponse.unsafeJson(SandboxView.toEncoded(allocated), { status: 201 })

export const sandboxesLayer = HttpApiBuilder.group(SandboxApi, "sandboxes", (handlers) =>
  Effect.gen(function* () {
    const sandboxes = yield* Sandboxes.Sandboxes
    const config = yield* ServerConfig
    const gate = yield* TenantGate
    const { key: terminalKey } = yield* TerminalTokenKey
    const terminalTtlMillis = (config.terminalTokenTtlSeconds ?? 60) * 1000
    const request = (payload: CreateSandboxRequest) =>
      AllocationRequests.fromCreate(payload, config.defaultNamespace)

    return handlers
      .handle("create", ({ payload }) =>
        Effect.flatMap(request(payload), (r) =>
          AllocationRequests.admitted(gate, r, 1)(sandboxes.allocate(r)),
        ).pipe(Effect.map(created)),
      )
      .handle("createBatch", ({ payload }) =>
        Effect.flatMap(request(payload), (r) =>
          AllocationRequests.admitted(gate, r, payload.count)(sandboxes.allocateBatch(r, payload.count)),
        ).pipe(Effect.map((pods) => new SandboxBatch({ sandboxes: pods.map(SandboxView.toApi) }))),
      )
      .handle("get", ({ path }) =>
        Effect.flatMap(caller, (c) => sandboxes.get(c, path.id)).pipe(Effect.map(SandboxView.toApi)),
      )
      .handle("list", ({ urlParams }) =>
        Effect.gen(function* () {
          const metadata =
            urlParams.metadata === undefined ? {} : SandboxView.parseMetadataFilter(urlParams.metadata)
          if (metadata === undefined) {
            return yield* Effect.fail(
              new InvalidRequest({ message: "metadata filter must be url-encoded k=v pairs joined by '&'" }),
            )
          }
          const all = yield* Effect.flatMap(caller, sandboxes.list)
          const matching = all
            .filter((s) =>
              SandboxView.matches(s.sandbox, {
                namespace: urlParams.namespace,
                pool: urlParams.pool,
                metadata,
              }),
            )
            .map((s) => ({ ...s, sandboxId: s.sandbox.sandboxId }))
          const after = urlParams.cursor === undefined ? undefined : decodeCursor(urlParams.cursor)
          if (after !== undefined && Either.isLeft(after)) {
            return yield* Effect.fail(new InvalidRequest({ message: "cursor is not one this server issued" }))
          }
          const page = SandboxView.page(matching, urlParams.limit ?? 100, after?.right)
          return new SandboxPage({
            items: page.items.map(SandboxView.toApi),
            ...(page.next === undefined
              ? {}
              : { nextCursor: Schema.encodeSync(SandboxView.Cursor)(page.next) }),
          })
        }),
      )
      .handle("extendTimeout", ({ path, payload }) =>
        Effect.flatMap(caller, (c) => sandboxes.extend(c, path.id, payload.timeoutSeconds)).pipe(
          Effect.map(SandboxView.toApi),
        ),
      )
      .handle("terminalToken", ({ path }) =>
        Effect.gen(function* () {
          const allocated = yield* Effect.flatMap(caller, (c) => sandboxes.get(c, path.id))
          const now = yield* Clock.currentTimeMillis
          return TerminalGrants.grant(
            terminalKey,
            allocated,
            SandboxView.toApi(allocated),
            now,
            terminalTtlMillis,
          )
        }),
      )
      .handle("delete", ({ path }) => Effect.flatMap(caller, (c) => sandboxes.release(c, path.id)))
  }),
)

export const poolsLayer = HttpApiBuilder.group(SandboxApi, "pools", (handlers) =>
  Effect.gen(function* () {
    const sandboxes = yield* Sandboxes.Sandboxes
    // A key lists only the pools it may use, and the templates those pools refer to.
    const usable = Effect.flatMap(CurrentTenant, (tenant) =>
      Effect.map(sandboxes.pools, (pools) =>
        pools.filter((pool) =>
          TenantPolicy.mayUse(tenant, pool.metadata.namespace ?? "", pool.metadata.name ?? ""),
        ),
      ),
    )
    return handlers
      .handle("listPools", () =>
        Effect.map(usable, (pools) =>
          pools.map(
            (pool) =>
              new PoolSummary({
                namespace: pool.metadata.namespace ?? "",
                name: pool.metadata.name ?? "",
                template: pool.spec.templateRef?.name ?? "inline",
                replicas: pool.spec.replicas,
                idle: pool.status?.idleReplicas ?? 0,
                allocated: pool.status?.allocatedReplicas ?? 0,
                starting: pool.status?.startingReplicas ?? 0,
              }),
          ),
        ),
      )
      .handle("listTemplates", () =>
        Effect.gen(function* () {
          const tenant = yield* CurrentTenant
          const all = yield* sandboxes.templates
          const referenced = new Set((yield* usable).flatMap((pool) => pool.spec.templateRef?.name ?? []))
          return all.filter((template) => tenant.admin || referenced.has(template.metadata.name ?? ""))
        }).pipe(
          Effect.map((templates) =>
            templates.map(
              (template) =>
                new TemplateSummary({
                  name: template.metadata.name ?? "",
                  image: sandboxContainerOf(template.spec)?.image ?? "",
                  ...(template.spec.idleImage === undefined ? {} : { idleImage: template.spec.idleImage }),
                  runtimes: template.spec.runtimes.map((r) => r.name),
                }),
            ),
          ),
        ),
      )
  }),
)
