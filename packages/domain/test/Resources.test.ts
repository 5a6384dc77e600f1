import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Schema } from "effect"
import { apiVersion } from "../src/ApiGroup.ts"
import { SandboxPool } from "../src/resources/SandboxPool.ts"
import { SandboxTemplate, sandboxContainerName } from "../src/resources/SandboxTemplate.ts"

const podTemplate = {
  metadata: { labels: { team: "rl" } },
  spec: {
    containers: [{ name: "sandbox", image: "busybox:1.36", command: ["sleep", "infinity"] }],
    terminationGracePeriodSeconds: 0,
  },
}

const pool = (spec: Record<string, unknown>) => ({
  apiVersion,
  kind: "SandboxPool",
  metadata: { name: "p", namespace: "default" },
  spec,
})

const decodePool = Schema.decodeUnknown(SandboxPool)
const poolError = (spec: Record<string, unknown>): string =>
  Either.match(Schema.decodeUnknownEither(SandboxPool)(pool(spec)), {
    onLeft: (error) => error.message,
    onRight: () => assert.fail("expected the pool to be rejected"),
  })

describe("SandboxPool", () => {
  it.effect("decodes with the same defaults the API server fills in", () =>
    Effect.gen(function* () {
      const decoded = yield* decodePool(pool({ templateRef: { name: "python" } }))
      assert.strictEqual(decoded.spec.replicas, 1)
      assert.isFalse(decoded.spec.useIdleImage)
      assert.deepStrictEqual(decoded.spec.sandbox, {
        defaultTimeoutSeconds: 300,
        maxTimeoutSeconds: 86400,
        startupTimeoutSeconds: 60,
      })
      assert.deepStrictEqual(decoded.spec.updateStrategy, { type: "InPlace", maxUnavailable: 1 })
      assert.deepStrictEqual(decoded.spec.recyclePolicy, { type: "InPlace", acceptPodStateCarryOver: false })
      assert.isUndefined(decoded.status)
    }),
  )

  it.effect("keeps every field of an inline Pod template", () =>
    Effect.gen(function* () {
      const decoded = yield* decodePool(
        pool({ template: { podTemplate }, updateStrategy: { maxUnavailable: "25%" } }),
      )
      assert.deepStrictEqual<unknown>(decoded.spec.template?.podTemplate, podTemplate)
      assert.deepStrictEqual(decoded.spec.template?.runtimes, [])
      assert.strictEqual(decoded.spec.updateStrategy.maxUnavailable, "25%")
      assert.strictEqual(sandboxContainerName(decoded.spec.template!), "sandbox")
    }),
  )

  it("rejects what the CRD's rules reject, with the same messages", () => {
    assert.include(poolError({}), "exactly one of spec.templateRef and spec.template must be set")
    assert.include(
      poolError({ templateRef: { name: "python" }, template: { podTemplate } }),
      "exactly one of spec.templateRef and spec.template must be set",
    )
    assert.include(
      poolError({
        templateRef: { name: "python" },
        sandbox: { defaultTimeoutSeconds: 600, maxTimeoutSeconds: 60 },
      }),
      "defaultTimeoutSeconds must not exceed maxTimeoutSeconds",
    )
    assert.include(
      poolError({ templateRef: { name: "python" }, autoscaling: { minReplicas: 5, maxReplicas: 2 } }),
      "minReplicas must not exceed maxReplicas",
    )
    assert.include(poolError({ templateRef: { name: "python" }, replicas: -1 }), "replicas")
    assert.include(
      poolError({ templateRef: { name: "python" }, updateStrategy: { maxUnavailable: "lots" } }),
      "lots",
    )
    assert.include(
      poolError({ templateRef: { name: "python" }, updateStrategy: { type: "Rolling" } }),
      "Rolling",
    )
  })
})

describe("SandboxTemplate", () => {
  const template = (spec: Record<string, unknown>) => ({
    apiVersion,
    kind: "SandboxTemplate",
    metadata: { name: "python" },
    spec,
  })

  it.effect("decodes runtimes and names the sandbox container", () =>
    Effect.gen(function* () {
      const decoded = yield* Schema.decodeUnknown(SandboxTemplate)(
        template({
          podTemplate,
          containerName: "sandbox",
          runtimes: [
            { name: "python", image: "python:3.13", port: 8000, env: [{ name: "PYTHONUNBUFFERED" }] },
          ],
        }),
      )
      assert.strictEqual(sandboxContainerName(decoded.spec), "sandbox")
      assert.deepStrictEqual(decoded.spec.runtimes[0]?.env, [{ name: "PYTHONUNBUFFERED", value: "" }])
    }),
  )

  it("rejects a containerName that is not in the Pod template, duplicate runtimes and no containers", () => {
    const error = (spec: Record<string, unknown>) =>
      Either.match(Schema.decodeUnknownEither(SandboxTemplate)(template(spec)), {
        onLeft: (e) => e.message,
        onRight: () => assert.fail("expected the template to be rejected"),
      })
    assert.include(error({ podTemplate, containerName: "other" }), "containerName must name one of")
    assert.include(
      error({
        podTemplate,
        runtimes: [
          { name: "python", image: "a" },
          { name: "python", image: "b" },
        ],
      }),
      "duplicate",
    )
    assert.include(error({ podTemplate: { spec: { containers: [] } } }), "containers")
  })
})
