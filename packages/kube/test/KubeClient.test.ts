import * as diagnostics from "node:diagnostics_channel"
import { assert, layer } from "@effect/vitest"
import * as k8s from "@kubernetes/client-node"
import { Effect, Either, Fiber, Stream } from "effect"
import type { ConfigMap } from "kubernetes-types/core/v1.js"
import { KubeClient, make } from "../src/KubeClient.ts"
import * as KubeConfig from "../src/KubeConfig.ts"
import type { KubeError } from "../src/KubeError.ts"
import * as Patch from "../src/Patch.ts"
import * as ResourceType from "../src/ResourceType.ts"
import { clientLayer, testNamespace, widgetCrd } from "./cluster.ts"

const reasonOf = <A, R>(effect: Effect.Effect<A, KubeError, R>) =>
  Effect.map(Effect.either(effect), (result) => (Either.isLeft(result) ? result.left.reason : "succeeded"))

const configMap = (name: string, namespace: string, data: Record<string, string>): ConfigMap => ({
  metadata: { name, namespace, labels: { app: "kube-test" } },
  data,
})

/** client-node reading the raw object: an independent view, managedFields included. */
const managersOf = (namespace: string, name: string) =>
  Effect.promise(async () => {
    const config = new k8s.KubeConfig()
    config.loadFromDefault()
    const raw = await config.makeApiClient(k8s.CoreV1Api).readNamespacedConfigMap({ name, namespace })
    return (raw.metadata?.managedFields ?? []).map((entry) => `${entry.manager}:${entry.operation}`).sort()
  })

layer(clientLayer, { excludeTestServices: true })("KubeClient against the API server", (it) => {
  it.scoped("create, get, list, replace, merge patch and delete round trip", () =>
    Effect.gen(function* () {
      const client = yield* KubeClient
      const namespace = yield* testNamespace("kube-crud")
      const created = yield* client.create(ResourceType.ConfigMap, configMap("one", namespace, { a: "1" }))
      assert.strictEqual(created.metadata?.namespace, namespace)
      assert.isDefined(created.metadata?.uid)
      assert.isUndefined((created.metadata as { managedFields?: unknown }).managedFields)

      const read = yield* client.get(ResourceType.ConfigMap, "one", { namespace })
      assert.deepStrictEqual(read.data, { a: "1" })

      const replaced = yield* client.replace(ResourceType.ConfigMap, { ...read, data: { a: "2" } })
      assert.deepStrictEqual(replaced.data, { a: "2" })
      assert.notStrictEqual(replaced.metadata?.resourceVersion, read.metadata?.resourceVersion)

      const patched = yield* client.patch(ResourceType.ConfigMap, "one", Patch.merge({ data: { b: "3" } }), {
        namespace,
      })
      assert.deepStrictEqual(patched.data, { a: "2", b: "3" })

      const jsonPatched = yield* client.patch(
        ResourceType.ConfigMap,
        "one",
        Patch.json([
          Patch.testResourceVersion(patched.metadata!.resourceVersion!),
          { op: "remove", path: "/data/a" },
          { op: "add", path: `/metadata/labels/${Patch.escapePointer("example.com/role")}`, value: "x" },
        ]),
        { namespace },
      )
      assert.deepStrictEqual(jsonPatched.data, { b: "3" })
      assert.strictEqual(jsonPatched.metadata?.labels?.["example.com/role"], "x")

      yield* client.delete(ResourceType.ConfigMap, "one", { namespace, propagationPolicy: "Background" })
      assert.strictEqual(
        yield* reasonOf(client.get(ResourceType.ConfigMap, "one", { namespace })),
        "NotFound",
      )
    }),
  )

  it.scoped("lists by label and field selectors, page by page", () =>
    Effect.gen(function* () {
      const client = yield* KubeClient
      const namespace = yield* testNamespace("kube-list")
      for (let i = 0; i < 5; i++) {
        yield* client.create(ResourceType.ConfigMap, configMap(`cm-${i}`, namespace, { i: `${i}` }))
      }
      yield* client.create(ResourceType.ConfigMap, { metadata: { name: "unlabelled", namespace } })

      const names: Array<string> = []
      let token: string | undefined
      let pages = 0
      do {
        const page = yield* client.list(ResourceType.ConfigMap, {
          namespace,
          labelSelector: "app=kube-test",
          limit: 2,
          continue: token,
        })
        assert.isNotEmpty(page.resourceVersion)
        names.push(...page.items.map((item) => item.metadata!.name!))
        token = page.continue
        pages++
      } while (token !== undefined)
      assert.strictEqual(pages, 3)
      assert.deepStrictEqual(names.sort(), ["cm-0", "cm-1", "cm-2", "cm-3", "cm-4"])

      const byField = yield* client.list(ResourceType.ConfigMap, {
        namespace,
        fieldSelector: "metadata.name=cm-3",
      })
      assert.deepStrictEqual(
        byField.items.map((item) => item.metadata?.name),
        ["cm-3"],
      )
    }),
  )

  it.scoped("reports the API server's refusals as typed reasons", () =>
    Effect.gen(function* () {
      const client = yield* KubeClient
      const namespace = yield* testNamespace("kube-errors")
      yield* client.create(ResourceType.ConfigMap, configMap("dup", namespace, {}))
      assert.strictEqual(
        yield* reasonOf(client.create(ResourceType.ConfigMap, configMap("dup", namespace, {}))),
        "AlreadyExists",
      )
      assert.strictEqual(
        yield* reasonOf(client.get(ResourceType.ConfigMap, "missing", { namespace })),
        "NotFound",
      )
      assert.strictEqual(
        yield* reasonOf(client.create(ResourceType.ConfigMap, configMap("Not_A_Valid_Name", namespace, {}))),
        "Invalid",
      )
      assert.strictEqual(yield* reasonOf(client.get(ResourceType.ConfigMap, "dup")), "BadRequest")
    }),
  )

  it.scoped("rejects writes made against a stale resourceVersion with Conflict", () =>
    Effect.gen(function* () {
      const client = yield* KubeClient
      const namespace = yield* testNamespace("kube-conflict")
      const stale = yield* client.create(ResourceType.ConfigMap, configMap("cas", namespace, { v: "0" }))
      const staleVersion = stale.metadata!.resourceVersion!
      const fresh = yield* client.replace(ResourceType.ConfigMap, { ...stale, data: { v: "1" } })

      assert.strictEqual(
        yield* reasonOf(client.replace(ResourceType.ConfigMap, { ...stale, data: { v: "stale" } })),
        "Conflict",
      )
      // The allocation claim: a merge patch carrying the resourceVersion it read.
      assert.strictEqual(
        yield* reasonOf(
          client.patch(
            ResourceType.ConfigMap,
            "cas",
            Patch.merge({ metadata: { resourceVersion: staleVersion }, data: { v: "stale" } }),
            { namespace },
          ),
        ),
        "Conflict",
      )
      assert.strictEqual(
        yield* reasonOf(
          client.patch(
            ResourceType.ConfigMap,
            "cas",
            Patch.json([
              Patch.resourceVersionPrecondition(staleVersion),
              { op: "replace", path: "/data/v", value: "stale" },
            ]),
            { namespace },
          ),
        ),
        "Conflict",
      )
      // A failed `test` operation is the server's 422, not a 409.
      assert.strictEqual(
        yield* reasonOf(
          client.patch(
            ResourceType.ConfigMap,
            "cas",
            Patch.json([
              Patch.testResourceVersion(staleVersion),
              { op: "replace", path: "/data/v", value: "stale" },
            ]),
            { namespace },
          ),
        ),
        "Invalid",
      )
      assert.deepStrictEqual((yield* client.get(ResourceType.ConfigMap, "cas", { namespace })).data, {
        v: "1",
      })

      // The same guards with the current version succeed.
      const claimed = yield* client.patch(
        ResourceType.ConfigMap,
        "cas",
        Patch.merge({ metadata: { resourceVersion: fresh.metadata!.resourceVersion }, data: { v: "2" } }),
        { namespace },
      )
      assert.deepStrictEqual(claimed.data, { v: "2" })

      // Delete preconditions: wrong uid or stale version refuse, the right ones delete.
      assert.strictEqual(
        yield* reasonOf(
          client.delete(ResourceType.ConfigMap, "cas", { namespace, preconditions: { uid: "not-the-uid" } }),
        ),
        "Conflict",
      )
      assert.strictEqual(
        yield* reasonOf(
          client.delete(ResourceType.ConfigMap, "cas", {
            namespace,
            preconditions: { resourceVersion: staleVersion },
          }),
        ),
        "Conflict",
      )
      yield* client.delete(ResourceType.ConfigMap, "cas", {
        namespace,
        preconditions: { uid: claimed.metadata!.uid!, resourceVersion: claimed.metadata!.resourceVersion! },
        gracePeriodSeconds: 0,
      })
      assert.strictEqual(
        yield* reasonOf(client.get(ResourceType.ConfigMap, "cas", { namespace })),
        "NotFound",
      )
    }),
  )

  it.scoped("server-side apply records our field manager and refuses another's conflicting field", () =>
    Effect.gen(function* () {
      const client = yield* KubeClient
      const namespace = yield* testNamespace("kube-apply")
      const intent = { metadata: { name: "applied", namespace }, data: { owned: "ours" } }
      const applied = yield* client.apply(ResourceType.ConfigMap, intent)
      assert.deepStrictEqual(applied.data, { owned: "ours" })
      assert.deepStrictEqual(yield* managersOf(namespace, "applied"), ["agent-sandbox:Apply"])

      // Applying the same intent again is a no-op, not a conflict.
      yield* client.apply(ResourceType.ConfigMap, intent)

      const rival = { metadata: { name: "applied", namespace }, data: { owned: "theirs" } }
      assert.strictEqual(
        yield* reasonOf(client.apply(ResourceType.ConfigMap, rival, { fieldManager: "rival" })),
        "Conflict",
      )
      // A field nobody else owns is fine for the rival.
      yield* client.apply(
        ResourceType.ConfigMap,
        { metadata: { name: "applied", namespace }, data: { extra: "x" } },
        { fieldManager: "rival" },
      )
      // Forced, the rival takes the field over; its intent no longer lists "extra", so that goes.
      const forced = yield* client.apply(ResourceType.ConfigMap, rival, {
        fieldManager: "rival",
        force: true,
      })
      assert.deepStrictEqual(forced.data, { owned: "theirs" })
      assert.deepStrictEqual(yield* managersOf(namespace, "applied"), ["rival:Apply"])
    }),
  )

  it.scoped("custom resources: schema decoding, status and scale subresources", () =>
    Effect.gen(function* () {
      const client = yield* KubeClient
      const Widget = yield* widgetCrd
      const namespace = yield* testNamespace("kube-crd")
      const created = yield* client.create(Widget, {
        metadata: { name: "w", namespace },
        spec: { replicas: 1, color: "red" },
      })
      assert.deepStrictEqual(created.spec, { replicas: 1, color: "red" })
      assert.strictEqual(created.kind, "Widget")

      // Writes to the main resource ignore status; the status subresource is where it goes.
      const withStatus = yield* client.patchStatus(
        Widget,
        "w",
        Patch.merge({ status: { phase: "Growing" } }),
        {
          namespace,
        },
      )
      assert.deepStrictEqual(withStatus.status, { phase: "Growing" })
      const replacedStatus = yield* client.replaceStatus(Widget, {
        ...withStatus,
        status: { phase: "Ready", replicas: 1 },
      })
      assert.deepStrictEqual(replacedStatus.status, { phase: "Ready", replicas: 1 })
      const appliedStatus = yield* client.applyStatus(
        Widget,
        { metadata: { name: "w", namespace }, status: { phase: "Applied" } },
        { force: true },
      )
      assert.strictEqual(appliedStatus.status?.phase, "Applied")

      const scale = yield* client.getScale(Widget, "w", { namespace })
      assert.strictEqual(scale.spec?.replicas, 1)
      const scaled = yield* client.patchScale(Widget, "w", Patch.merge({ spec: { replicas: 5 } }), {
        namespace,
      })
      assert.strictEqual(scaled.spec?.replicas, 5)
      assert.strictEqual((yield* client.get(Widget, "w", { namespace })).spec.replicas, 5)

      // An object that does not match the schema is a typed failure, not a mistyped value.
      yield* client
        .patch(Widget, "w", Patch.merge({ spec: { color: null } }), { namespace })
        .pipe(Effect.either)
      assert.strictEqual(yield* reasonOf(client.get(Widget, "w", { namespace })), "Unknown")
    }),
  )

  it.scoped("writes proceed while watches hold connections of their own", () =>
    Effect.gen(function* () {
      // A request pool of one HTTP/1.1 connection: were watches on it, the patches would wait.
      const client = yield* make({ connections: 1, http2: false }).pipe(
        Effect.provide(KubeConfig.layerFromDefault),
      )
      const namespace = yield* testNamespace("kube-pools")
      yield* client.create(ResourceType.ConfigMap, configMap("target", namespace, { n: "0" }))
      const watches = yield* Effect.forEach([1, 2, 3, 4], () =>
        Effect.fork(
          Stream.runDrain(
            client.watch(ResourceType.ConfigMap, { namespace, resourceVersion: "0", timeoutSeconds: 120 }),
          ),
        ),
      )
      for (let n = 1; n <= 10; n++) {
        yield* client.patch(ResourceType.ConfigMap, "target", Patch.merge({ data: { n: `${n}` } }), {
          namespace,
        })
      }
      assert.deepStrictEqual((yield* client.get(ResourceType.ConfigMap, "target", { namespace })).data, {
        n: "10",
      })
      yield* Fiber.interruptAll(watches)
    }),
  )

  it.scoped("deletes (they carry DeleteOptions) keep their connection", () =>
    Effect.gen(function* () {
      // undici closes a connection after a request whose method carries no body by default (a
      // DELETE) but has one: every delete used to cost the next request a new TLS connection.
      const client = yield* make({ connections: 1, http2: false }).pipe(
        Effect.provide(KubeConfig.layerFromDefault),
      )
      const namespace = yield* testNamespace("kube-keepalive")
      const names = ["a", "b", "c", "d"]
      const created = yield* Effect.forEach(names, (name) =>
        client.create(ResourceType.ConfigMap, configMap(name, namespace, { n: name })),
      )
      let connections = 0
      const counted = () => {
        connections++
      }
      yield* Effect.acquireRelease(
        Effect.sync(() => diagnostics.subscribe("undici:client:connected", counted)),
        () => Effect.sync(() => diagnostics.unsubscribe("undici:client:connected", counted)),
      )
      for (const made of created) {
        yield* client.delete(ResourceType.ConfigMap, made.metadata?.name ?? "", {
          namespace,
          preconditions: { uid: made.metadata?.uid ?? "" },
        })
        yield* client.list(ResourceType.ConfigMap, { namespace })
      }
      assert.strictEqual(connections, 0, "a request after a delete opened a new connection")
    }),
  )
})
