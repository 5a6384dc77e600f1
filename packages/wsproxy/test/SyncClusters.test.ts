/**
 * The :9004 sync between two local control planes (SyncRig): the hub's API keys, templates and
 * pools reach the member cluster, whose operator serves with them (REST and E2B) and fills the
 * pool; updates and deletes follow; with the hub stopped the member keeps its copy and serves;
 * after a hub restart what changed meanwhile arrives. The cases run in order on one rig.
 */
import { createHash, randomBytes } from "node:crypto"
import { ApiGroup } from "@agent-sandbox/domain"
import { KubeClient, type KubeObject, Patch, ResourceType } from "@agent-sandbox/kube"
import { Eventually, Http } from "@agent-sandbox/testing"
import { OperatorHarness } from "@agent-sandbox/testing/operator"
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as SyncApply from "../src/SyncApply.ts"
import type { SyncMember } from "../src/SyncMember.ts"
import * as SyncObject from "../src/SyncObject.ts"
import * as SyncSources from "../src/SyncSources.ts"
import { layer as rigLayer, type Stoppable, SyncRig } from "./SyncRig.ts"

let hub: Stoppable<void> | undefined
let member: Stoppable<SyncMember["Type"]> | undefined
const keys: Record<string, string> = {}
const template = `sync-tpl-${randomBytes(4).toString("hex")}`

const until = <E, R>(check: Effect.Effect<boolean, E, R>, what: string) =>
  Eventually.eventually(
    Effect.flatMap(check, (ok) => (ok ? Effect.void : Effect.fail(what))),
    { timeout: "60 seconds", interval: "200 millis" },
  )

const restStatus = (key: string) =>
  Effect.flatMap(SyncRig, (r) =>
    Effect.map(Http.call(`${r.operator.apiUrl}/v1/pools`, { key }), (a) => a.status),
  )

const e2bStatus = (key: string) =>
  Effect.flatMap(SyncRig, (r) =>
    Effect.map(Http.call(`${r.operator.url}/v2/sandboxes`, { key }), (a) => a.status),
  )

const mintOnHub = (tenant: string) =>
  Effect.flatMap(SyncRig, (r) =>
    OperatorHarness.mintKey(r.system, tenant).pipe(Effect.provideService(KubeClient.KubeClient, r.hub)),
  )

/** What the member holds that sync applied (its own labelled objects). */
const syncedOnMember = Effect.gen(function* () {
  const r = yield* SyncRig
  const labelSelector = `${SyncApply.syncedLabel}=true`
  const secrets = yield* r.member.list(ResourceType.Secret, { namespace: r.system, labelSelector })
  const templates = yield* r.member.list(SyncSources.SandboxTemplateJson, { labelSelector })
  const pools = yield* r.member.list(SyncSources.SandboxPoolJson, { namespace: r.namespace, labelSelector })
  return [...secrets.items, ...templates.items, ...pools.items].map((o) => o.metadata?.name)
})

const getPool = (client: KubeClient.KubeClientShape, namespace: string, name: string) =>
  client.get(SyncSources.SandboxPoolJson, name, { namespace }) as Effect.Effect<
    KubeObject.KubeObject & {
      spec: { replicas?: number; templateRef?: { name: string } }
      status?: { idleReplicas?: number }
    },
    unknown
  >

const poolOnMember = (name: string) =>
  Effect.flatMap(SyncRig, (r) => Effect.option(getPool(r.member, r.namespace, name)))

const createPoolOnHub = (name: string, replicas: number) =>
  Effect.flatMap(SyncRig, (r) =>
    r.hub.create(
      SyncSources.SandboxPoolJson,
      {
        apiVersion: ApiGroup.apiVersion,
        kind: "SandboxPool",
        metadata: { name, namespace: r.namespace },
        spec: { templateRef: { name: template }, replicas },
      } as KubeObject.KubeObject,
      { namespace: r.namespace },
    ),
  )

const copyToken = Effect.gen(function* () {
  const r = yield* SyncRig
  const secret = yield* r.hub.get(ResourceType.Secret, "agent-sandbox-sync-token", { namespace: r.system })
  yield* r.member.create(
    ResourceType.Secret,
    {
      metadata: { name: "agent-sandbox-sync-token", namespace: r.system },
      data: { key: secret.data?.key ?? "" },
    },
    { namespace: r.system },
  )
})

/** The first line the hub sends a member at `since` (read off the wire with the member's token). */
const firstLine = (since?: string) =>
  Effect.gen(function* () {
    const r = yield* SyncRig
    const token = yield* r.member.get(ResourceType.Secret, "agent-sandbox-sync-token", {
      namespace: r.system,
    })
    const bearer = Buffer.from(token.data?.key ?? "", "base64").toString("hex")
    const query = since === undefined ? "" : `?since=${encodeURIComponent(since)}`
    return yield* Effect.promise(async () => {
      const controller = new AbortController()
      const response = await fetch(`${r.hubUrl}/v1/sync${query}`, {
        headers: { authorization: `Bearer ${bearer}` },
        signal: controller.signal,
      })
      const reader = response.body!.getReader()
      // The first line that is not a heartbeat.
      let text = ""
      for (;;) {
        while (!text.includes("\n")) text += new TextDecoder().decode((await reader.read()).value)
        const line = text.slice(0, text.indexOf("\n"))
        text = text.slice(text.indexOf("\n") + 1)
        if (!line.includes('"_tag":"Heartbeat"')) {
          controller.abort()
          return line
        }
      }
    })
  })

layer(rigLayer, { timeout: "300 seconds", excludeTestServices: true })("sync between two clusters", (it) => {
  it.effect(
    "a wrong sync token gets 401 and nothing is applied",
    () =>
      Effect.gen(function* () {
        const r = yield* SyncRig
        keys.early = yield* mintOnHub("team-early")
        hub = yield* r.startHub
        yield* copyToken
        const refused = yield* Effect.promise(() =>
          fetch(`${r.hubUrl}/v1/sync`, { headers: { authorization: "Bearer not-the-token" } }),
        )
        assert.strictEqual(refused.status, 401)
        yield* r.member.create(
          ResourceType.Secret,
          {
            metadata: { name: "wrong-sync-token", namespace: r.system },
            data: { key: randomBytes(32).toString("base64") },
          },
          { namespace: r.system },
        )
        const wrong = yield* r.startMember("wrong-sync-token")
        yield* until(
          Effect.map(wrong.value.status, (s) => s.lastError?.includes("401") === true),
          "the member has not been refused yet",
        )
        const status = yield* wrong.value.status
        assert.isUndefined(status.version)
        assert.deepStrictEqual(yield* syncedOnMember, [])
        assert.strictEqual(yield* restStatus(keys.early!), 401)
        yield* wrong.stop
      }),
    120_000,
  )

  it.effect(
    "a key minted on the hub authenticates REST and E2B on the member; the member's own keys stay",
    () =>
      Effect.gen(function* () {
        const r = yield* SyncRig
        member = yield* r.startMember()
        yield* until(
          Effect.map(restStatus(keys.early!), (s) => s === 200),
          "the hub's key does not work on the member yet",
        )
        assert.strictEqual(yield* e2bStatus(keys.early!), 200)
        // A key the member cluster minted itself is not the hub's to remove.
        assert.strictEqual(yield* restStatus(r.operator.keys.tenantA), 200)
        const status = yield* member.value.status
        assert.isTrue(status.connected)
        assert.strictEqual(status.snapshots, 1)
      }),
    120_000,
  )

  it.effect(
    "plaintext keys never travel: the stream carries digests and policy fields only",
    () =>
      Effect.gen(function* () {
        const r = yield* SyncRig
        // A key Secret someone also wrote the plaintext key into: the plaintext must stay on the hub.
        const careless = `e2b_${randomBytes(20).toString("hex")}`
        const digest = createHash("sha256").update(careless).digest("hex")
        yield* r.hub.create(
          ResourceType.Secret,
          {
            metadata: {
              name: `api-key-${digest.slice(0, 16)}`,
              namespace: r.system,
              labels: { [SyncObject.apiKeyLabel]: "true" },
            },
            stringData: { tenant: "team-careless", sha256: digest, admin: "false", key: careless },
          },
          { namespace: r.system },
        )
        yield* until(
          Effect.map(restStatus(careless), (s) => s === 200),
          "the careless key has not arrived",
        )
        // What a member receives, read off the wire with the right token.
        const line = yield* firstLine()
        const snapshot = JSON.parse(line) as {
          _tag: string
          objects: Array<{ _tag: string; fields?: object }>
        }
        assert.strictEqual(snapshot._tag, "Snapshot")
        assert.notInclude(line, careless)
        assert.notInclude(line, keys.early!)
        const apiKeys = snapshot.objects.filter((o) => o._tag === "ApiKey")
        assert.isAtLeast(apiKeys.length, 2)
        for (const key of apiKeys) {
          for (const field of Object.keys(key.fields ?? {})) assert.include(SyncObject.apiKeyFields, field)
        }
        // And what the member wrote has no trace of it either.
        const copy = yield* r.member.get(ResourceType.Secret, `api-key-${digest.slice(0, 16)}`, {
          namespace: r.system,
        })
        assert.notProperty(copy.data, "key")
        assert.notInclude(JSON.stringify(copy), Buffer.from(careless).toString("base64"))
      }),
    120_000,
  )

  it.effect(
    "a member that comes back with its version gets only the changes it missed, not a snapshot",
    () =>
      Effect.gen(function* () {
        const { version } = yield* member!.value.status
        assert.isDefined(version)
        const missed = yield* mintOnHub("team-missed")
        const next = JSON.parse(yield* firstLine(version)) as {
          _tag: string
          version: string
          object?: { _tag: string; fields?: { tenant?: string } }
        }
        // A change (the key, or a template another suite made on the hub's cluster meanwhile), never a snapshot.
        assert.oneOf(next._tag, ["Apply", "Delete"])
        assert.notStrictEqual(next.version, version)
        yield* until(
          Effect.map(restStatus(missed), (s) => s === 200),
          "the member has not followed",
        )
        // Another run's version (or none) is answered with a snapshot.
        assert.strictEqual(JSON.parse(yield* firstLine("0123456789abcdef.1"))._tag, "Snapshot")
      }),
    120_000,
  )

  it.effect(
    "a template and pools created on the hub appear on the member, its operator fills the pool, and a local object of the same name is left alone",
    () =>
      Effect.gen(function* () {
        const r = yield* SyncRig
        yield* r.hub.create(SyncSources.SandboxTemplateJson, {
          apiVersion: ApiGroup.apiVersion,
          kind: "SandboxTemplate",
          metadata: { name: template },
          spec: { podTemplate: { spec: { containers: [{ name: "sandbox", image: "busybox:1.36" }] } } },
        } as KubeObject.KubeObject)
        yield* createPoolOnHub("synced", 2)
        yield* createPoolOnHub("doomed", 1)
        // `base` exists on the member already (its operator's own pool): not sync's to change.
        yield* createPoolOnHub("base", 5)
        yield* until(
          Effect.map(poolOnMember("synced"), (p) =>
            p._tag === "Some" ? (p.value.status?.idleReplicas ?? 0) >= 2 : false,
          ),
          "the synced pool is not filled on the member",
        )
        const synced = yield* getPool(r.member, r.namespace, "synced")
        assert.deepStrictEqual(synced.spec.templateRef, { name: template })
        assert.strictEqual(synced.spec.replicas, 2)
        const onHub = yield* getPool(r.hub, r.namespace, "synced")
        assert.deepStrictEqual(synced.spec, onHub.spec)
        const memberTemplate = yield* r.member.get(SyncSources.SandboxTemplateJson, template)
        assert.strictEqual(memberTemplate.metadata?.labels?.[SyncApply.syncedLabel], "true")
        assert.isTrue((yield* poolOnMember("doomed"))._tag === "Some")
        const base = yield* getPool(r.member, r.namespace, "base")
        assert.strictEqual(base.spec.replicas, 2)
        assert.isUndefined(base.metadata?.labels?.[SyncApply.syncedLabel])
        const status = yield* member!.value.status
        assert.include(status.skipped, `SandboxPool/${r.namespace}/base`)
      }),
    120_000,
  )

  it.effect(
    "an update and a delete on the hub propagate",
    () =>
      Effect.gen(function* () {
        const r = yield* SyncRig
        keys.revoked = yield* mintOnHub("team-revoked")
        yield* until(
          Effect.map(restStatus(keys.revoked!), (s) => s === 200),
          "the second key has not arrived",
        )
        yield* r.hub.patch(SyncSources.SandboxPoolJson, "synced", Patch.merge({ spec: { replicas: 3 } }), {
          namespace: r.namespace,
        })
        yield* r.hub.delete(SyncSources.SandboxPoolJson, "doomed", { namespace: r.namespace })
        const secrets = yield* r.hub.list(ResourceType.Secret, {
          namespace: r.system,
          labelSelector: `${SyncObject.tenantLabel}=team-revoked`,
        })
        for (const secret of secrets.items) {
          yield* r.hub.delete(ResourceType.Secret, secret.metadata!.name!, { namespace: r.system })
        }
        yield* until(
          Effect.map(poolOnMember("synced"), (p) => p._tag === "Some" && p.value.spec.replicas === 3),
          "the update has not arrived",
        )
        yield* until(
          Effect.map(poolOnMember("doomed"), (p) => p._tag === "None"),
          "the delete has not arrived",
        )
        yield* until(
          Effect.map(restStatus(keys.revoked!), (s) => s === 401),
          "the revoked key still works",
        )
        // The member's own pool and keys are untouched by the deletes.
        assert.isTrue((yield* poolOnMember("base"))._tag === "Some")
        assert.strictEqual(yield* restStatus(r.operator.keys.tenantB), 200)
      }),
    120_000,
  )

  it.effect(
    "with the hub stopped the member serves on its last copy; after a restart the changes made meanwhile arrive",
    () =>
      Effect.gen(function* () {
        const r = yield* SyncRig
        yield* hub!.stop
        yield* until(
          Effect.map(member!.value.status, (s) => !s.connected),
          "the member has not noticed",
        )
        // Nothing was removed: the hub's key still works, REST and E2B, and a sandbox of the synced pool is handed out.
        assert.strictEqual(yield* restStatus(keys.early!), 200)
        assert.strictEqual(yield* e2bStatus(keys.early!), 200)
        const created = yield* Http.call(`${r.operator.apiUrl}/v1/sandboxes`, {
          method: "POST",
          key: keys.early!,
          body: { pool: "synced" },
        })
        assert.strictEqual(created.status, 201, JSON.stringify(created.body))
        assert.isTrue((yield* poolOnMember("synced"))._tag === "Some")
        // Meanwhile, on the hub:
        keys.late = yield* mintOnHub("team-late")
        yield* r.hub.patch(SyncSources.SandboxPoolJson, "synced", Patch.merge({ spec: { replicas: 1 } }), {
          namespace: r.namespace,
        })
        assert.strictEqual(yield* restStatus(keys.late!), 401)
        hub = yield* r.startHub
        yield* until(
          Effect.map(restStatus(keys.late!), (s) => s === 200),
          "the key minted while away has not arrived",
        )
        yield* until(
          Effect.map(poolOnMember("synced"), (p) => p._tag === "Some" && p.value.spec.replicas === 1),
          "the update made while away has not arrived",
        )
        // A restarted hub is a new run: the member resyncs from a snapshot (counted once it is all
        // applied, which may be after the objects above are already in place).
        yield* until(
          Effect.map(member!.value.status, (s) => s.connected && s.snapshots >= 2),
          "the member has not resynced from a snapshot",
        )
        assert.strictEqual(yield* restStatus(keys.early!), 200)
      }),
    180_000,
  )
})
