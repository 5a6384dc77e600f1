/** The E2B front end's pure parts: what requests mean (templates, filters, routing, timeouts). */
import { E2bModels as E2bSchemas, Unauthorized } from "@agent-sandbox/domain"
import { HttpApiError, HttpServerError, HttpServerRequest } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Either, Schema } from "effect"
import * as E2bError from "../src/e2b/E2bError.ts"
import * as E2bFailure from "../src/e2b/E2bFailure.ts"
import * as E2bModels from "../src/e2b/E2bModels.ts"
import * as ListParams from "../src/e2b/ListParams.ts"
import * as MetadataQuery from "../src/e2b/MetadataQuery.ts"
import * as RequestRouting from "../src/e2b/RequestRouting.ts"
import * as TemplateRef from "../src/e2b/TemplateRef.ts"
import * as TimeoutPolicy from "../src/e2b/TimeoutPolicy.ts"

describe("TemplateRef", () => {
  it("names a pool in the default namespace, or namespace/pool", () => {
    expect(TemplateRef.parse("base", "sandboxes")).toEqual({
      _tag: "Pool",
      namespace: "sandboxes",
      pool: "base",
    })
    expect(TemplateRef.parse("team-a/py", "sandboxes")).toEqual({
      _tag: "Pool",
      namespace: "team-a",
      pool: "py",
    })
    expect(TemplateRef.format("sandboxes", "base", "sandboxes")).toBe("base")
    expect(TemplateRef.format("team-a", "py", "sandboxes")).toBe("team-a/py")
  })
  it("reads a tag as a runtime and rejects what is no DNS label", () => {
    expect(TemplateRef.parse("base:python", "d")).toEqual({
      _tag: "Pool",
      namespace: "d",
      pool: "base",
      runtime: "python",
    })
    expect(TemplateRef.parse("base:Py_3", "d")._tag).toBe("Invalid")
    for (const bad of ["", "Base", "a/b/c", "a/", "/b", "x_y", `${"a".repeat(64)}`]) {
      expect(TemplateRef.parse(bad, "d")._tag, bad).toBe("Invalid")
    }
  })
})

describe("MetadataQuery", () => {
  it("decodes pairs encoded as the SDKs do (each part twice)", () => {
    const sdkEncoded = (pairs: Record<string, string>) =>
      new URLSearchParams(
        Object.fromEntries(
          Object.entries(pairs).map(([k, v]) => [encodeURIComponent(k), encodeURIComponent(v)]),
        ),
      ).toString()
    const pairs = { "user id": "a&b=c", pct: "100%", plus: "1+1", ü: "é" }
    expect(MetadataQuery.parse(sdkEncoded(pairs))).toEqual(pairs)
  })
  it("takes plainly encoded filters too, and rejects malformed ones", () => {
    expect(MetadataQuery.parse("user=abc&app=prod")).toEqual({ user: "abc", app: "prod" })
    expect(MetadataQuery.parse("p=100%25")).toEqual({ p: "100%" })
    expect(MetadataQuery.parse("")).toEqual({})
    expect(MetadataQuery.parse("novalue")).toBeUndefined()
    expect(MetadataQuery.parse("=v")).toBeUndefined()
    expect(MetadataQuery.parse("k=%E0%A4%A")).toBeUndefined()
  })
})

describe("ListParams", () => {
  /** As the E2B API reads a query: its schema first (HttpApi), then ListParams. */
  const parse = (query: string, paged = true): ListParams.Parsed => {
    const schema = paged ? E2bSchemas.ListSandboxesV2Params : E2bSchemas.ListSandboxesParams
    const decoded = Schema.decodeUnknownEither(schema)(Object.fromEntries(new URLSearchParams(query)))
    return Either.isLeft(decoded)
      ? { _tag: "Invalid", message: String(decoded.left) }
      : ListParams.parse(decoded.right, paged)
  }
  it("defaults to everything running, newest first, 100 a page", () => {
    expect(parse("")).toEqual({
      _tag: "Query",
      query: {
        metadata: {},
        includeRunning: true,
        template: undefined,
        startedAfter: undefined,
        order: "desc",
        limit: 100,
        after: undefined,
      },
    })
  })
  it("reads state lists, order, limits and times", () => {
    const parsed = parse("state=paused&order=asc&limit=5&startedAfter=2026-01-01T00:00:00Z&template=base")
    expect(parsed._tag === "Query" && parsed.query).toMatchObject({
      includeRunning: false,
      order: "asc",
      limit: 5,
      startedAfter: Date.parse("2026-01-01T00:00:00Z"),
      template: "base",
    })
    const both = parse("state=running,paused")
    expect(both._tag === "Query" && both.query.includeRunning).toBe(true)
    const unpaged = parse("limit=5", false)
    expect(unpaged._tag === "Query" && unpaged.query.limit).toBe(Number.MAX_SAFE_INTEGER)
  })
  it("rejects what it cannot honour", () => {
    for (const bad of [
      "state=lost",
      "limit=0",
      "limit=101",
      "limit=1.5",
      "order=up",
      "startedAfter=x",
      "nextToken=zz",
      "metadata=k",
    ]) {
      expect(parse(bad)._tag, bad).toBe("Invalid")
    }
  })
})

describe("RequestRouting", () => {
  const domain = "sandbox.example.com"
  it("finds the sandbox of a 49983-<id>.<domain> host, whatever the port", () => {
    expect(RequestRouting.sandboxIdFromHost("49983-abc123.sandbox.example.com", domain)).toBe("abc123")
    expect(RequestRouting.sandboxIdFromHost("49983-ABC123.Sandbox.Example.com:443", domain)).toBe("abc123")
    expect(RequestRouting.sandboxIdFromHost("8080-abc123.sandbox.example.com", domain)).toBeUndefined()
    expect(RequestRouting.sandboxIdFromHost("49983-abc123.evil.com", domain)).toBeUndefined()
    expect(RequestRouting.sandboxIdFromHost("49983-a.b.sandbox.example.com", domain)).toBeUndefined()
    expect(RequestRouting.sandboxIdFromHost("49983-abc123.sandbox.example.com", undefined)).toBeUndefined()
  })
  it("sends envd's paths and sandbox hosts to the data plane, the rest to the control plane", () => {
    const plane = (path: string, host?: string, sandboxIdHeader?: string) =>
      RequestRouting.isDataPlane({ path, host, sandboxIdHeader }, domain) ? "data" : "control"
    expect(plane("/process.Process/Start")).toBe("data")
    expect(plane("/filesystem.Filesystem/ListDir")).toBe("data")
    expect(plane("/files")).toBe("data")
    expect(plane("/health", undefined, "abc")).toBe("data")
    expect(plane("/health")).toBe("control")
    expect(plane("/anything", "49983-abc.sandbox.example.com")).toBe("data")
    // Older SDKs send E2b-Sandbox-Id to the control plane too.
    expect(plane("/sandboxes/abc/connect", "api.example.com", "abc")).toBe("control")
    expect(plane("/v2/sandboxes")).toBe("control")
  })
  it("prefers the host's sandbox to the header's", () => {
    expect(
      RequestRouting.sandboxIdOf(
        { path: "/files", host: "49983-fromhost.d", sandboxIdHeader: "fromheader" },
        "d",
      ),
    ).toBe("fromhost")
    expect(
      RequestRouting.sandboxIdOf({ path: "/files", host: "x", sandboxIdHeader: "fromheader" }, "d"),
    ).toBe("fromheader")
  })
})

describe("TimeoutPolicy", () => {
  it("caps at the pool's maximum", () => {
    expect(TimeoutPolicy.capped(86_400, 600)).toBe(600)
    expect(TimeoutPolicy.capped(30, 600)).toBe(30)
  })
  it("lets connect extend but never shorten", () => {
    const now = 1_000_000
    const extension = (requestedSeconds: number, expiresAtMs: number | undefined) =>
      TimeoutPolicy.extension({ requestedSeconds, maxSeconds: 600, nowMs: now, expiresAtMs })
    expect(extension(10, now + 60_000)).toBeUndefined()
    expect(extension(60, now + 60_000)).toBeUndefined()
    expect(extension(120, now + 60_000)).toBe(120)
    expect(extension(10_000, now + 60_000)).toBe(600)
    expect(extension(10, undefined)).toBe(10)
  })
})

describe("E2bModels", () => {
  const body = (fields: Partial<E2bModels.NewSandbox>): E2bModels.NewSandbox => ({
    templateID: "base",
    ...fields,
  })
  it("accepts what the SDKs send by default", () => {
    expect(E2bModels.unsupportedOptions(body({}))).toEqual([])
    // e2b 2.19 (JS) and 2.20 (Python) send these on every create.
    expect(
      E2bModels.unsupportedOptions(
        body({ secure: true, allow_internet_access: true, autoPause: false, metadata: {} }),
      ),
    ).toEqual([])
    expect(E2bModels.unsupportedOptions(body({ network: {}, mcp: null, volumeMounts: [] }))).toEqual([])
  })
  it("names the options it cannot honour", () => {
    expect(
      E2bModels.unsupportedOptions(
        body({
          autoPause: true,
          autoResume: { enabled: true },
          allow_internet_access: false,
          network: { denyOut: ["0.0.0.0/0"] },
          mcp: { x: 1 },
          iam: { tokens: {} },
          volumeMounts: [{ name: "v", path: "/v" }],
        }),
      ).length,
    ).toBe(7)
  })
  it("checks env var names", () => {
    expect(E2bModels.invalidEnvVarName({ PATH_X: "1", _a1: "2" })).toBeUndefined()
    expect(E2bModels.invalidEnvVarName({ "A-B": "1" })).toBe("A-B")
    expect(E2bModels.invalidEnvVarName({ "1A": "1" })).toBe("1A")
  })
})

describe("E2bFailure", () => {
  const request = (method: string, url: string) =>
    HttpServerRequest.fromWeb(new Request(`http://e2b.test${url}`, { method }))
  const wire = (cause: Cause.Cause<unknown>) => {
    const { error, unexpected } = E2bFailure.fromCause(cause)
    return { status: error.code, body: { ...error }, unexpected }
  }
  it("answers HttpApi's own failures in E2B's shape", () => {
    expect(wire(Cause.fail(new Unauthorized({ message: "no key" })))).toEqual({
      status: 401,
      body: { code: 401, message: "no key" },
      unexpected: false,
    })
    const decode = new HttpApiError.HttpApiDecodeError({ issues: [], message: "templateID is missing" })
    expect(wire(Cause.fail(decode)).body).toEqual({
      code: 400,
      message: "invalid request: templateID is missing",
    })
    const notJson = new HttpServerError.RequestError({
      request: request("POST", "/v2/sandboxes"),
      reason: "Decode",
    })
    expect(wire(Cause.die(notJson)).body).toEqual({ code: 400, message: "the request body is not JSON" })
  })
  it("tells unknown paths from E2B APIs this server lacks", () => {
    const notFound = (method: string, url: string) =>
      wire(Cause.fail(new HttpServerError.RouteNotFound({ request: request(method, url) }))).body
    expect(notFound("GET", "/nothing?x=1")).toEqual({ code: 404, message: "GET /nothing not found" })
    expect(notFound("POST", "/templates/abc/builds").code).toBe(501)
    expect(notFound("GET", "/v2/templates").code).toBe(501)
    expect(notFound("GET", "/volumesx").code).toBe(404)
  })
  it("keeps the handlers' own errors and hides defects", () => {
    expect(wire(Cause.fail(E2bError.notFound("sandbox x not found")))).toEqual({
      status: 404,
      body: { code: 404, message: "sandbox x not found" },
      unexpected: false,
    })
    expect(wire(Cause.die(new Error("boom")))).toEqual({
      status: 500,
      body: { code: 500, message: "internal error" },
      unexpected: true,
    })
    expect(wire(Cause.fail("something else")).unexpected).toBe(true)
    expect(wire(Cause.interrupt(undefined as never)).status).toBe(503)
  })
})
