import { HttpApiMiddleware, HttpApiSecurity } from "@effect/platform"
import { Unauthorized } from "./ApiErrors.ts"
import { CurrentTenant } from "./Tenant.ts"

/**
 * Every route needs an API key, sent as `X-API-Key` (what the E2B SDKs send) or as a bearer
 * token. There is no anonymous or "no key means admin" mode.
 */
export class Authentication extends HttpApiMiddleware.Tag<Authentication>()("Authentication", {
  failure: Unauthorized,
  provides: CurrentTenant,
  security: {
    apiKey: HttpApiSecurity.apiKey({ in: "header", key: "X-API-Key" }),
    bearer: HttpApiSecurity.bearer,
  },
}) {}
