/** The E2B front end's pure parts: what it keeps on a Pod and how a sandbox is reported. */

import { TrafficAccessToken } from "@agent-sandbox/domain"
import type { SandboxPod } from "@agent-sandbox/operator/internal"
import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import type { Pod } from "kubernetes-types/core/v1.js"
import * as AccessToken from "../src/e2b/AccessToken.ts"
import * as E2bAnnotations from "../src/e2b/E2bAnnotations.ts"
import * as E2bModels from "../src/e2b/E2bModels.ts"
import * as E2bView from "../src/e2b/E2bView.ts"
import * as ResourceQuantity from "../src/e2b/ResourceQuantity.ts"
import * as SandboxListing from "../src/e2b/SandboxListing.ts"
import * as SandboxSize from "../src/e2b/SandboxSize.ts"
import * as TokenKeyRing from "../src/e2b/TokenKeyRing.ts"

const key = new Uint8Array(32).fill(7)
const ring = TokenKeyRing.fromSecretData({ key: Buffer.from(key).toString("base64") })!

const sandboxPod = (fields: Partial<SandboxPod.SandboxPod> = {}): SandboxPod.SandboxPod => ({
  namespace: "sandboxes",
  name: "base-abc",
  uid: "uid-1",
  resourceVersion: "1",
  nodeName: undefined,
  pool: "base",
  state: "allocated",
  ready: true,
  failed: false,
  deleting: false,
  image: "busybox",
  imageStatus: { _tag: "Running" },
  containerName: "sandbox",
  containerId: "",
  revision: undefined,
  shape: undefined,
  reuses: 0,
  restarting: undefined,
  scrubPending: false,
  runtime: undefined,
  sandboxId: "s1",
  tenant: "team-a",
  allocatedAt: 1_000,
  expiresAt: 301_000,
  metadata: { run: "r1" },
  annotations: {},
  ...fields,
})

describe("AccessToken", () => {
  it("derives the same token from the same nonce and key, and checks it against its digest", () => {
    const nonce = AccessToken.newNonce()
    const token = AccessToken.derive(key, nonce)
    expect(AccessToken.derive(key, nonce)).toBe(token)
    expect(AccessToken.derive(new Uint8Array(32).fill(8), nonce)).not.toBe(token)
    expect(AccessToken.derive(key, AccessToken.newNonce())).not.toBe(token)
    const digest = AccessToken.digest(token)
    expect(digest).toMatch(/^[0-9a-f]{64}$/)
    expect(AccessToken.matches(token, digest)).toBe(true)
    expect(AccessToken.matches(`${token}x`, digest)).toBe(false)
    expect(AccessToken.matches("", digest)).toBe(false)
    expect(AccessToken.matches(token, "not hex")).toBe(false)
  })
})

describe("E2bAnnotations and E2bView", () => {
  const nonce = "n0nce"
  const mac = AccessToken.derive(key, nonce)
  const token = AccessToken.issue(ring, "s1", nonce)
  const annotations = E2bAnnotations.claimAnnotations({
    accessTokenSha256: AccessToken.digest(mac),
    accessTokenNonce: nonce,
    envVars: { A: "1" },
  })
  it("round-trips what the claim writes, and never holds the token", () => {
    expect(Object.values(annotations)).not.toContain(token)
    expect(Object.values(annotations)).not.toContain(mac)
    expect(E2bAnnotations.read({ annotations })).toEqual({
      accessTokenSha256: AccessToken.digest(mac),
      accessTokenNonce: nonce,
      envVars: { A: "1" },
      idempotencyKeySha256: undefined,
    })
    expect(
      E2bAnnotations.read({ annotations: { [E2bAnnotations.Annotation.envVars]: "[1]" } }).envVars,
    ).toEqual({})
  })
  it("gives the token under the signing key: a rotated key gives a new token, the old one fails once removed", () => {
    expect(E2bView.accessTokenOf(sandboxPod({ annotations }), ring)).toBe(token)
    const rotated = new Uint8Array(32)
    const onlyNew = TokenKeyRing.fromSecretData({ key: Buffer.from(rotated).toString("base64") })!
    const next = E2bView.accessTokenOf(sandboxPod({ annotations }), onlyNew)
    expect(next).toBe(`s1.${TokenKeyRing.keyId(rotated)}.${AccessToken.derive(rotated, nonce)}`)
    expect(AccessToken.verify(onlyNew, "s1", nonce, token)).toBe(false)
    expect(AccessToken.verify(ring, "s1", nonce, token)).toBe(true)
    expect(E2bView.accessTokenOf(sandboxPod({ annotations }), undefined)).toBeUndefined()
    expect(E2bView.accessTokenOf(sandboxPod(), ring)).toBeUndefined()
  })
  it("gives a traffic access token from the same nonce, apart from the envd token, checked by what the extproc uses", () => {
    const traffic = E2bView.trafficTokenOf(sandboxPod({ annotations }), key)
    expect(traffic).toBe(TrafficAccessToken.derive(key, nonce))
    expect(traffic).not.toBe(token)
    expect(TrafficAccessToken.verify(key, nonce, traffic ?? "")).toBe(true)
    expect(TrafficAccessToken.verify(key, nonce, token)).toBe(false)
    expect(E2bView.trafficTokenOf(sandboxPod({ annotations }), undefined)).toBeUndefined()
    expect(E2bView.trafficTokenOf(sandboxPod(), key)).toBeUndefined()
  })
  it("counts a sandbox live until its end, its deletion or its failure", () => {
    expect(E2bView.isLive(sandboxPod(), 300_999)).toBe(true)
    expect(E2bView.isLive(sandboxPod(), 301_000)).toBe(false)
    expect(E2bView.isLive(sandboxPod({ deleting: true }), 0)).toBe(false)
    expect(E2bView.isLive(sandboxPod({ failed: true }), 0)).toBe(false)
    expect(E2bView.isLive(sandboxPod({ state: "idle" }), 0)).toBe(false)
  })
  it("reports a sandbox with E2B's fields", () => {
    const pod: Pod = {
      spec: {
        containers: [
          { name: "sidecar", image: "x" },
          {
            name: "sandbox",
            image: "busybox",
            resources: { limits: { cpu: "1500m", memory: "1Gi" }, requests: { "ephemeral-storage": "2G" } },
          },
        ],
      },
    }
    const view = E2bView.toE2b(
      { defaultNamespace: "sandboxes", domain: undefined, envdVersion: "0.5.7", tokenKeys: () => ring },
      { sandbox: { ...sandboxPod({ annotations }), containerName: "sandbox" }, pod },
    )
    expect(E2bModels.sandboxDetail(view)).toEqual({
      sandboxID: "s1",
      templateID: "base",
      alias: "base",
      clientID: "base-abc",
      startedAt: new Date(1_000).toISOString(),
      endAt: new Date(301_000).toISOString(),
      cpuCount: 2,
      memoryMB: 1024,
      diskSizeMB: 1907,
      metadata: { run: "r1" },
      state: "running",
      envdVersion: "0.5.7",
      volumeMounts: [],
      envdAccessToken: token,
      domain: null,
      allowInternetAccess: null,
    })
    expect(E2bModels.sandbox(view)).toMatchObject({
      sandboxID: "s1",
      envdAccessToken: token,
      trafficAccessToken: TrafficAccessToken.derive(key, nonce),
      domain: null,
    })
  })
})

describe("ResourceQuantity and SandboxSize", () => {
  it("reads Kubernetes quantities", () => {
    expect(ResourceQuantity.parse("500m")).toBe(0.5)
    expect(ResourceQuantity.parse("2")).toBe(2)
    expect(ResourceQuantity.parse("1Gi")).toBe(2 ** 30)
    expect(ResourceQuantity.parse("1G")).toBe(1e9)
    expect(ResourceQuantity.parse("1e3")).toBe(1000)
    expect(ResourceQuantity.parse("1.5Mi")).toBe(1.5 * 2 ** 20)
    expect(ResourceQuantity.parse("lots")).toBeUndefined()
    expect(ResourceQuantity.cpuCount("250m")).toBe(1)
    expect(ResourceQuantity.mebibytes("512Mi")).toBe(512)
  })
  it("reports 0 for what a container leaves unset", () => {
    expect(SandboxSize.of({ spec: { containers: [{ name: "c" }] } }, "c")).toEqual({
      cpuCount: 0,
      memoryMB: 0,
      diskSizeMB: 0,
    })
  })
})

describe("SandboxListing", () => {
  const items = [3, 1, 2, 2].map((t, i) => ({
    sandboxId: `id${i}`,
    startedAt: t,
    templateId: i === 3 ? "other/base" : "base",
    pool: "base",
    metadata: { n: String(i) },
  }))
  const query = (fields: Partial<SandboxListing.ListQuery>): SandboxListing.ListQuery => ({
    metadata: {},
    includeRunning: true,
    template: undefined,
    startedAfter: undefined,
    order: "desc",
    limit: 100,
    after: undefined,
    ...fields,
  })
  it("orders by start time (then id) and pages without repeats", () => {
    const pages: Array<Array<string>> = []
    let after: SandboxListing.Position | undefined
    do {
      const page = SandboxListing.page(items, query({ order: "asc", limit: 3, after }))
      pages.push(page.items.map((s) => s.sandboxId))
      expect(page.total).toBe(4)
      after =
        page.nextToken === undefined ? undefined : Schema.decodeSync(SandboxListing.NextToken)(page.nextToken)
    } while (after !== undefined)
    expect(pages).toEqual([["id1", "id2", "id3"], ["id0"]])
    expect(SandboxListing.page(items, query({})).items.map((s) => s.sandboxId)).toEqual([
      "id0",
      "id3",
      "id2",
      "id1",
    ])
  })
  it("filters by metadata, template, start time and state", () => {
    const ids = (q: Partial<SandboxListing.ListQuery>) =>
      SandboxListing.page(items, query(q)).items.map((s) => s.sandboxId)
    expect(ids({ metadata: { n: "2" } })).toEqual(["id2"])
    expect(ids({ template: "other/base" })).toEqual(["id3"])
    expect(ids({ template: "base" }).length).toBe(4)
    expect(ids({ startedAfter: 3 })).toEqual(["id0"])
    expect(ids({ includeRunning: false })).toEqual([])
  })
})
