import {
  ApiKeyInfo,
  ApiKeyNotFound,
  ClusterUnavailable,
  CreatedApiKey,
  SandboxApi,
} from "@agent-sandbox/domain"
import type { KubeError } from "@agent-sandbox/kube"
import { HttpApiBuilder } from "@effect/platform"
import { DateTime, Effect } from "effect"
import * as ApiKey from "../auth/ApiKey.ts"
import { ApiKeys } from "../auth/ApiKeys.ts"
import { requireAdmin } from "./AdminOnly.ts"

const unavailable = (error: KubeError.KubeError) =>
  new ClusterUnavailable({ message: `the API key Secrets could not be written: ${error.message}` })

/** /v1/keys: mint (the key is in that answer only), list without secrets, revoke. */
export const keysLayer = HttpApiBuilder.group(SandboxApi, "keys", (handlers) =>
  Effect.gen(function* () {
    const keys = yield* ApiKeys
    return handlers
      .handle("createKey", ({ payload }) =>
        Effect.gen(function* () {
          yield* requireAdmin
          const admin = payload.admin ?? false
          const key = yield* Effect.mapError(keys.mint(payload.tenant, admin), unavailable)
          return new CreatedApiKey({
            id: ApiKey.keyIdOf(ApiKey.hash(key)),
            tenant: payload.tenant,
            admin,
            createdAt: yield* DateTime.now,
            key,
          })
        }),
      )
      .handle("listKeys", () =>
        Effect.zipRight(
          requireAdmin,
          Effect.map(keys.list, (listed) =>
            listed
              .map(
                (k) =>
                  new ApiKeyInfo({
                    id: k.id,
                    tenant: k.tenant,
                    admin: k.admin,
                    ...(k.createdAt === undefined ? {} : { createdAt: DateTime.unsafeMake(k.createdAt) }),
                  }),
              )
              .sort((a, b) =>
                a.tenant === b.tenant ? (a.id < b.id ? -1 : 1) : a.tenant < b.tenant ? -1 : 1,
              ),
          ),
        ),
      )
      .handle("revokeKey", ({ path }) =>
        Effect.gen(function* () {
          yield* requireAdmin
          const revoked = yield* Effect.mapError(keys.revoke(path.id), unavailable)
          if (!revoked) {
            return yield* Effect.fail(
              new ApiKeyNotFound({ id: path.id, message: `no API key with id ${path.id}` }),
            )
          }
        }),
      )
  }),
)
