import { SandboxIdFormat, TrafficAccessToken } from "@agent-sandbox/domain"
import { describe, expect, it } from "@effect/vitest"
import * as ClusterTable from "../src/ClusterTable.ts"
import * as LocalSandbox from "../src/LocalSandbox.ts"
import * as Placement from "../src/Placement.ts"
import * as RequestFacts from "../src/RequestFacts.ts"
import * as RouteDecision from "../src/RouteDecision.ts"

const tag = (name: string) => name as SandboxIdFormat.ClusterTag
const options: RouteDecision.DecisionOptions = { domain: "sandbox.test", staleAfterMillis: 10_000 }
const now = 1_000_000
const noSandboxes: RouteDecision.LocalLookup = () => undefined

const table = ClusterTable.setLocalCapacity(
  ClusterTable.make(tag("a"), "127.0.0.1:8090", [
    {
      name: "b",
      gateway: "10.0.0.2:10000",
      capacity: [{ template: "base", warm: 3 }],
      lastReport: now - 1_000,
    },
    {
      name: "c",
      gateway: "10.0.0.3:10000",
      capacity: [{ template: "base", warm: 9 }],
      lastReport: now - 60_000,
    },
  ]),
  [
    { template: "base", warm: 1 },
    { template: "alpha", warm: 2 },
  ],
)

const request = (overrides: Partial<RequestFacts.RequestHeaders>): RequestFacts.RequestHeaders => ({
  method: "GET",
  path: "/",
  authority: "proxy.local",
  sandboxIdHeader: undefined,
  via: undefined,
  ...overrides,
})

const decide = (overrides: Partial<RequestFacts.RequestHeaders>, endOfStream = true) =>
  RouteDecision.decide(table, request(overrides), endOfStream, now, options, noSandboxes)

describe("SandboxIdFormat", () => {
  it("composes, recognises and parses both forms", () => {
    expect(SandboxIdFormat.compose(tag("west"), "abc123")).toBe("west-abc123")
    expect(SandboxIdFormat.compose(undefined, "abc123")).toBe("abc123")
    expect(SandboxIdFormat.clusterOf("west-abc123")).toBe("west")
    expect(SandboxIdFormat.clusterOf("abc123")).toBeUndefined()
    expect(SandboxIdFormat.isWellFormed("west-abc123")).toBe(true)
    expect(SandboxIdFormat.isWellFormed("abc123")).toBe(true)
    expect(SandboxIdFormat.isWellFormed("a-b-c")).toBe(false)
    expect(SandboxIdFormat.isWellFormed("West-abc")).toBe(false)
    expect(SandboxIdFormat.clusterTagPattern.test("toolongclustertag1")).toBe(false)
  })
})

describe("RequestFacts", () => {
  it("reads only the headers it names (the others are never decoded)", () => {
    const all = [
      { key: ":method", value: "POST" },
      { key: ":path", value: "/sandboxes/a-x" },
      { key: ":authority", value: "8000-a-x.sandbox.test" },
      { key: "e2b-sandbox-id", value: "A-X" },
      { key: "x-agent-sandbox-via", value: "b" },
      { key: TrafficAccessToken.header, value: "t" },
      { key: "user-agent", value: "e2b-js-sdk" },
      { key: "content-type", value: "application/json" },
    ]
    const read = all.filter((h) => RequestFacts.readHeaders.has(h.key) || h.key === "x-agent-sandbox-via")
    expect(read).toHaveLength(6)
    expect(RequestFacts.fromHeaderList(read, "x-agent-sandbox-via")).toEqual(
      RequestFacts.fromHeaderList(all, "x-agent-sandbox-via"),
    )
  })

  it("reads the sandbox from the host, the header or the path; creates by method and path", () => {
    expect(
      RequestFacts.target(request({ authority: "49983-b-xyz.sandbox.test:443" }), "sandbox.test"),
    ).toEqual({
      _tag: "Sandbox",
      sandboxId: "b-xyz",
      port: 49983,
    })
    expect(RequestFacts.target(request({ authority: "8080-b-xyz.Sandbox.Test" }), "sandbox.test")).toEqual({
      _tag: "Sandbox",
      sandboxId: "b-xyz",
      port: 8080,
    })
    expect(RequestFacts.target(request({ authority: "49983-b-xyz.evil.test" }), "sandbox.test")._tag).toBe(
      "Unnamed",
    )
    expect(RequestFacts.target(request({ sandboxIdHeader: "b-xyz" }), undefined)).toEqual({
      _tag: "Sandbox",
      sandboxId: "b-xyz",
      port: 49983,
    })
    expect(
      RequestFacts.target(request({ path: "/v2/sandboxes/b-xyz/connect", method: "POST" }), undefined),
    ).toEqual({
      _tag: "Sandbox",
      sandboxId: "b-xyz",
      port: 49983,
    })
    expect(RequestFacts.target(request({ path: "/sandboxes/b-xyz" }), undefined)._tag).toBe("Sandbox")
    expect(RequestFacts.target(request({ path: "/v2/sandboxes", method: "POST" }), undefined)._tag).toBe(
      "Create",
    )
    expect(RequestFacts.target(request({ path: "/sandboxes", method: "POST" }), undefined)._tag).toBe(
      "Create",
    )
    expect(RequestFacts.target(request({ path: "/v2/sandboxes?state=running" }), undefined)._tag).toBe(
      "Unnamed",
    )
  })

  it("takes Envoy's header list, first value of each", () => {
    const facts = RequestFacts.fromHeaderList(
      [
        { key: ":method", value: "POST" },
        { key: ":path", value: "/process.Process/Start" },
        { key: ":authority", value: "127.0.0.1:10000" },
        { key: "e2b-sandbox-id", value: "B-XYZ" },
        { key: "x-via", value: "a" },
      ],
      "x-via",
    )
    expect(facts).toEqual({
      method: "POST",
      path: "/process.Process/Start",
      authority: "127.0.0.1:10000",
      sandboxIdHeader: "b-xyz",
      via: "a",
    })
  })
})

describe("RouteDecision", () => {
  it("sends this cluster's sandboxes, untagged ids and other requests to the local upstream", () => {
    const local = { _tag: "Forward", cluster: "a", upstream: "127.0.0.1:8090", remote: false }
    expect(decide({ sandboxIdHeader: "a-xyz" })).toEqual(local)
    expect(decide({ sandboxIdHeader: "plainid" })).toEqual(local)
    expect(decide({ path: "/v2/sandboxes" })).toEqual(local)
  })

  it("sends another cluster's sandbox to its gateway, marked remote (the loop guard goes with it)", () => {
    expect(decide({ sandboxIdHeader: "b-xyz" })).toEqual({
      _tag: "Forward",
      cluster: "b",
      upstream: "10.0.0.2:10000",
      remote: true,
    })
  })

  it("never forwards a request another cluster already forwarded", () => {
    const decision = decide({ sandboxIdHeader: "b-xyz", via: "b" })
    expect(decision._tag).toBe("Reject")
    expect(decision._tag === "Reject" && decision.status).toBe(508)
    expect(decide({ sandboxIdHeader: "a-xyz", via: "b" })._tag).toBe("Forward")
  })

  it("answers 503 for a stale cluster's sandbox and 404 for an unknown cluster", () => {
    expect(decide({ sandboxIdHeader: "c-xyz" })).toEqual({
      _tag: "Reject",
      status: 503,
      message: "sandbox c-xyz: its cluster c is unavailable (no report for more than 10 s)",
    })
    expect(decide({ sandboxIdHeader: "zz-xyz" })).toMatchObject({ _tag: "Reject", status: 404 })
  })

  it("follows a pinned route before the id's tag", () => {
    const pinned = ClusterTable.pushRoute(table, "plainid", "b")
    expect(
      RouteDecision.decide(pinned, request({ sandboxIdHeader: "plainid" }), true, now, options, noSandboxes),
    ).toMatchObject({
      cluster: "b",
    })
    expect(
      RouteDecision.decide(
        ClusterTable.evictRoute(pinned, "plainid"),
        request({ sandboxIdHeader: "plainid" }),
        true,
        now,
        options,
        noSandboxes,
      ),
    ).toMatchObject({ cluster: "a" })
  })

  it("reads a create's body first; a forwarded create stays local", () => {
    expect(decide({ method: "POST", path: "/v2/sandboxes" }, false)).toEqual({ _tag: "ReadBody" })
    expect(decide({ method: "POST", path: "/v2/sandboxes", via: "b" }, false)).toMatchObject({ cluster: "a" })
  })
})

describe("Placement", () => {
  it("picks the live cluster with the most warm Pods of the template, this one on a tie", () => {
    expect(Placement.place(table, "base", now, 10_000)).toBe("b")
    expect(Placement.place(table, "alpha", now, 10_000)).toBe("a")
    expect(Placement.place(table, "unknown", now, 10_000)).toBe("a")
    // c has the most, but it is stale.
    expect(Placement.place(table, "base", now, 10_000)).not.toBe("c")
    expect(Placement.place(table, "base", now - 59_000, 10_000)).toBe("c")
    // None warm anywhere: a cluster with a pool for the template wins over this one without.
    const drained = ClusterTable.setLocalCapacity(table, [{ template: "base", warm: 0 }])
    const bOnly = ClusterTable.reportCapacity(drained, "b", [{ template: "beta", warm: 0 }], now)
    expect(bOnly === undefined ? undefined : Placement.place(bOnly, "beta", now, 10_000)).toBe("b")
    expect(bOnly === undefined ? undefined : Placement.place(bOnly, "base", now, 10_000)).toBe("a")
  })

  it("reads the templateID of a create body, without its runtime tag", () => {
    expect(
      Placement.templateFromBody(new TextEncoder().encode('{"templateID":"base:py","timeout":30}')),
    ).toBe("base")
    expect(Placement.templateFromBody(new TextEncoder().encode("not json"))).toBeUndefined()
    expect(Placement.templateFromBody(new TextEncoder().encode("{}"))).toBeUndefined()
  })
})

describe("ClusterTable", () => {
  it("keeps this cluster's own entry out of others' hands", () => {
    const replaced = ClusterTable.register(table, {
      name: "a",
      gateway: "6.6.6.6:1",
      capacity: [],
      lastReport: now,
    })
    expect(replaced.clusters.get("a")?.gateway).toBe("127.0.0.1:8090")
    expect(ClusterTable.deregister(table, "a").clusters.has("a")).toBe(true)
    expect(ClusterTable.reportCapacity(table, "a", [], now)).toBeUndefined()
    expect(ClusterTable.reportCapacity(table, "nope", [], now)).toBeUndefined()
    expect(ClusterTable.reportCapacity(table, "c", [], now)?.clusters.get("c")?.lastReport).toBe(now)
  })
})

describe("a port of a sandbox (`<port>-<id>.<domain>`)", () => {
  const key = new Uint8Array(32).fill(7)
  const running: LocalSandbox.LocalSandbox = {
    sandboxId: "a-web1",
    namespace: "ns",
    pool: "web",
    podIp: "10.244.0.7",
    phase: "Running",
    ready: true,
    deleting: false,
    nonce: "nonce-1",
  }
  const facts = (
    sandbox: LocalSandbox.LocalSandbox,
    access: "Public" | "Private",
    withKey = true,
  ): LocalSandbox.PortFacts => ({
    sandbox,
    access,
    tokenAccepted: (token) =>
      withKey ? sandbox.nonce !== undefined && TrafficAccessToken.verify(key, sandbox.nonce, token) : "NoKey",
  })
  const sandboxes =
    (known: ReadonlyArray<LocalSandbox.PortFacts>): RouteDecision.LocalLookup =>
    (id) =>
      known.find((f) => f.sandbox.sandboxId === id)
  const at = (
    host: string,
    lookup: RouteDecision.LocalLookup,
    extra: Partial<RequestFacts.RequestHeaders> = {},
  ) => RouteDecision.decide(table, request({ authority: host, ...extra }), true, now, options, lookup)

  it("goes straight to the Pod's IP and port (public pool), marked as a sandbox port", () => {
    expect(at("8000-a-web1.sandbox.test", sandboxes([facts(running, "Public")]))).toEqual({
      _tag: "Forward",
      cluster: "a",
      upstream: "10.244.0.7:8000",
      remote: false,
      sandboxPort: "8000-a-web1",
    })
    expect(RouteDecision.socketAddress("fd00::7", 80)).toBe("[fd00::7]:80")
  })

  it("envd's port still goes to this cluster's E2B port", () => {
    expect(at("49983-a-web1.sandbox.test", sandboxes([facts(running, "Public")]))).toEqual({
      _tag: "Forward",
      cluster: "a",
      upstream: "127.0.0.1:8090",
      remote: false,
    })
  })

  it("an unknown sandbox is 404; one not running is 503", () => {
    expect(at("8000-a-nope.sandbox.test", sandboxes([]))).toMatchObject({ _tag: "Reject", status: 404 })
    const starting = { ...running, ready: false, phase: "Pending", podIp: undefined }
    const notReady = at("8000-a-web1.sandbox.test", sandboxes([facts(starting, "Public")]))
    expect(notReady).toMatchObject({ _tag: "Reject", status: 503 })
    expect(notReady._tag === "Reject" ? notReady.message : "").toContain("is not running (its Pod is Pending")
    const ending = at(
      "8000-a-web1.sandbox.test",
      sandboxes([facts({ ...running, deleting: true }, "Public")]),
    )
    expect(ending._tag === "Reject" ? ending.message : "").toContain("it is ending")
  })

  it("a private pool's port needs the sandbox's traffic access token", () => {
    const lookup = sandboxes([facts(running, "Private")])
    const without = at("8000-a-web1.sandbox.test", lookup)
    expect(without).toMatchObject({ _tag: "Reject", status: 403 })
    expect(without._tag === "Reject" ? without.message : "").toContain("e2b-traffic-access-token")
    // Another sandbox's token (another nonce) and the right one.
    const other = TrafficAccessToken.derive(key, "nonce-2")
    expect(at("8000-a-web1.sandbox.test", lookup, { trafficToken: other })).toMatchObject({ status: 403 })
    const token = TrafficAccessToken.derive(key, "nonce-1")
    expect(at("8000-a-web1.sandbox.test", lookup, { trafficToken: token })).toMatchObject({
      _tag: "Forward",
      upstream: "10.244.0.7:8000",
    })
    // Without the key nothing can be checked: shut, with a 503 that says why.
    expect(
      at("8000-a-web1.sandbox.test", sandboxes([facts(running, "Private", false)]), { trafficToken: token }),
    ).toMatchObject({ _tag: "Reject", status: 503 })
  })

  it("only a port of this cluster's sandbox that the cache lacks is worth an API-server lookup", () => {
    const miss = (host: string, lookup: RouteDecision.LocalLookup, extra = {}) =>
      RouteDecision.localPortMiss(
        table,
        RequestFacts.target(request({ authority: host, ...extra }), options.domain),
        lookup,
      )
    expect(miss("8000-a-web1.sandbox.test", sandboxes([]))).toBe("a-web1")
    // An untagged id is this cluster's too.
    expect(miss("8000-web1.sandbox.test", sandboxes([]))).toBe("web1")
    expect(miss("8000-a-web1.sandbox.test", sandboxes([facts(running, "Public")]))).toBeUndefined()
    // envd's port goes to the E2B port whatever the cache says; another cluster's id to its gateway.
    expect(miss("49983-a-web1.sandbox.test", sandboxes([]))).toBeUndefined()
    expect(miss("8000-b-web2.sandbox.test", sandboxes([]))).toBeUndefined()
    expect(miss("proxy.local", sandboxes([]), { sandboxIdHeader: "a-web1" })).toBeUndefined()
  })

  it("another cluster's sandbox goes to its gateway (which routes it to the Pod); never twice", () => {
    expect(at("8000-b-web2.sandbox.test", sandboxes([]))).toEqual({
      _tag: "Forward",
      cluster: "b",
      upstream: "10.0.0.2:10000",
      remote: true,
    })
    expect(at("8000-b-web2.sandbox.test", sandboxes([]), { via: "b" })).toMatchObject({ status: 508 })
    // Forwarded here by b: this cluster's sandbox, routed to its Pod.
    expect(at("8000-a-web1.sandbox.test", sandboxes([facts(running, "Public")]), { via: "b" })).toMatchObject(
      {
        upstream: "10.244.0.7:8000",
      },
    )
  })
})

describe("LocalSandbox", () => {
  it("reads a trimmed allocated Pod", () => {
    const pod = LocalSandbox.trim({
      metadata: {
        name: "web-x",
        namespace: "ns",
        labels: { [LocalSandbox.Label.sandboxId]: "a-web1", [LocalSandbox.Label.pool]: "web", other: "x" },
        annotations: { [TrafficAccessToken.nonceAnnotation]: "n", big: "y".repeat(1000) },
      },
      spec: { containers: [{ name: "sandbox", image: "busybox" }] },
      status: {
        phase: "Running",
        podIP: "10.1.2.3",
        conditions: [
          { type: "Ready", status: "True" },
          { type: "Initialized", status: "True" },
        ],
      },
    })
    expect(pod.spec).toBeUndefined()
    expect(pod.metadata?.annotations).toEqual({ [TrafficAccessToken.nonceAnnotation]: "n" })
    expect(LocalSandbox.fromPod(pod)).toEqual({
      sandboxId: "a-web1",
      namespace: "ns",
      pool: "web",
      podIp: "10.1.2.3",
      phase: "Running",
      ready: true,
      deleting: false,
      nonce: "n",
    })
  })
})
