import { assert, describe, it } from "@effect/vitest"
import type { Secret } from "kubernetes-types/core/v1.js"
import * as SyncApply from "../src/SyncApply.ts"
import * as SyncLog from "../src/SyncLog.ts"
import * as SyncMessage from "../src/SyncMessage.ts"
import * as SyncObject from "../src/SyncObject.ts"

const template = (name: string, image = "busybox:1.36"): SyncObject.SyncedObject => ({
  _tag: "SandboxTemplate",
  name,
  labels: {},
  spec: { podTemplate: { spec: { containers: [{ name: "sandbox", image }] } } },
})

const b64 = (value: string) => Buffer.from(value).toString("base64")

describe("the hub's versioned log", () => {
  it("bumps the version on a change, not on a resync of the same object", () => {
    let log = SyncLog.empty("e1", 10)
    log = SyncLog.upsert(log, "T", template("a"))
    log = SyncLog.upsert(log, "T", template("a"))
    assert.strictEqual(log.seq, 1)
    log = SyncLog.upsert(log, "T", template("a", "alpine:3"))
    assert.strictEqual(log.seq, 2)
    assert.strictEqual(SyncLog.versionOf(log), "e1.2")
  })

  it("a relist removes what its source no longer holds, and only that source's objects", () => {
    let log = SyncLog.empty("e1", 10)
    log = SyncLog.replaceSource(log, "T", [template("a"), template("b")])
    log = SyncLog.upsert(log, "K", {
      _tag: "ApiKey",
      name: "api-key-1",
      fields: { tenant: "t", sha256: "0".repeat(64) },
    })
    log = SyncLog.replaceSource(log, "T", [template("b")])
    assert.deepStrictEqual([...log.objects.keys()].sort(), ["ApiKey//api-key-1", "SandboxTemplate//b"])
    assert.deepStrictEqual(log.changes.at(-1), {
      _tag: "Delete",
      seq: log.seq,
      ref: { kind: "SandboxTemplate", name: "a" },
    })
    assert.isTrue(SyncLog.isReady(log, ["T"]))
    assert.isFalse(SyncLog.isReady(log, ["T", "P"]))
  })

  it("catches a member up with the changes it missed, or a snapshot when it cannot", () => {
    let log = SyncLog.empty("e1", 2)
    for (const name of ["a", "b", "c"]) log = SyncLog.upsert(log, "T", template(name))
    const caught = SyncLog.catchUp(log, "e1.2")
    assert.strictEqual(caught._tag, "Changes")
    if (caught._tag === "Changes")
      assert.deepStrictEqual(
        caught.changes.map((c) => c.seq),
        [3],
      )
    // Current: nothing to send.
    assert.deepStrictEqual(SyncLog.catchUp(log, "e1.3"), { _tag: "Changes", changes: [] })
    // Older than the two changes kept, another run's version, a future one, garbage, none.
    for (const since of ["e1.0", "e2.3", "e1.9", "x", undefined]) {
      assert.strictEqual(SyncLog.catchUp(log, since)._tag, "Snapshot", String(since))
    }
  })
})

describe("what travels", () => {
  const secret: Secret = {
    metadata: { name: "api-key-0123456789abcdef", labels: { [SyncObject.apiKeyLabel]: "true" } },
    data: {
      tenant: b64("team-a"),
      sha256: b64("a".repeat(64)),
      admin: b64("false"),
      pools: b64("base"),
      key: b64("e2b_plaintext-someone-stored"),
    },
  }

  it("an API key is its digest and policy fields, nothing else of its Secret", () => {
    const synced = SyncObject.fromApiKeySecret(secret)
    assert.deepStrictEqual(synced, {
      _tag: "ApiKey",
      name: "api-key-0123456789abcdef",
      fields: { tenant: "team-a", sha256: "a".repeat(64), admin: "false", pools: "base" },
    })
    assert.notInclude(
      SyncMessage.encode({ _tag: "Snapshot", version: "e.1", objects: [synced!] }),
      "plaintext",
    )
  })

  it("a Secret that is no well-formed key does not travel", () => {
    assert.isUndefined(SyncObject.fromApiKeySecret({ ...secret, metadata: { name: "x" } }))
    assert.isUndefined(
      SyncObject.fromApiKeySecret({ ...secret, data: { ...secret.data, sha256: b64("not-a-digest") } }),
    )
  })

  it("a line that is no sync message is a typed error", () => {
    const parsed = SyncMessage.parse('{"_tag":"Apply","version":"e.1"}')
    assert.strictEqual(parsed._tag, "SyncError")
  })
})

describe("what a member writes", () => {
  it("a key Secret in its own system namespace, labelled as applied by sync", () => {
    const body = SyncApply.bodyOf(
      { _tag: "ApiKey", name: "api-key-1", fields: { tenant: "t", sha256: "b".repeat(64) } },
      "member-system",
    )
    assert.strictEqual(body.metadata?.namespace, "member-system")
    assert.strictEqual(body.metadata?.labels?.[SyncApply.syncedLabel], "true")
    assert.deepStrictEqual(Object.keys(body.data as object).sort(), ["sha256", "tenant"])
  })

  it("deletes after a snapshot only what it applied and the hub no longer has", () => {
    const applied = SyncApply.refsOf("SandboxTemplate", [
      { metadata: { name: "kept", labels: { [SyncApply.syncedLabel]: "true" } } },
      { metadata: { name: "gone", labels: { [SyncApply.syncedLabel]: "true" } } },
      { metadata: { name: "local" } },
    ])
    assert.deepStrictEqual(SyncApply.stale(applied, [template("kept")]), [
      { kind: "SandboxTemplate", name: "gone" },
    ])
  })

  it("takes pools only in its namespaces when it has a list", () => {
    const ref = { kind: "SandboxPool" as const, namespace: "a", name: "p" }
    assert.isTrue(SyncApply.accepts(ref, []))
    assert.isTrue(SyncApply.accepts(ref, ["a"]))
    assert.isFalse(SyncApply.accepts(ref, ["b"]))
  })
})
