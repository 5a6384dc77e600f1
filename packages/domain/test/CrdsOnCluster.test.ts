import { randomBytes } from "node:crypto"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect, Schedule, Schema } from "effect"
import { apiVersion, plurals } from "../src/ApiGroup.ts"
import { SandboxPool } from "../src/resources/SandboxPool.ts"
import { SandboxTemplate } from "../src/resources/SandboxTemplate.ts"
import { kubectl, kubectlOk } from "./Kubectl.ts"

// Against the real API server of the local control plane. The CRDs are cluster-wide and other
// test files install them too: apply is idempotent and they are never deleted here.
const crdsDir = fileURLToPath(new URL("../../../crds/", import.meta.url))
const suffix = randomBytes(4).toString("hex")
const namespace = `domain-crds-${suffix}`
const templateName = `python-${suffix}`
const crdNames = Object.values(plurals).map((plural) => `crd/${plural}.sandbox.agent-sandbox.dev`)

const podTemplate = {
  metadata: { labels: { team: "rl" } },
  spec: {
    containers: [{ name: "sandbox", image: "busybox:1.36", command: ["sleep", "infinity"] }],
    terminationGracePeriodSeconds: 0,
  },
}

const template = (name: string, spec: Record<string, unknown>) => ({
  apiVersion,
  kind: "SandboxTemplate",
  metadata: { name },
  spec,
})

const pool = (name: string, spec: Record<string, unknown>) => ({
  apiVersion,
  kind: "SandboxPool",
  metadata: { name, namespace },
  spec,
})

const create = (object: unknown) => kubectl(["create", "-f", "-"], JSON.stringify(object))
const getJson = (resource: string, ...args: ReadonlyArray<string>) =>
  Effect.map(kubectlOk(["get", resource, "-o", "json", ...args]), (text) => JSON.parse(text) as unknown)

/** Discovery can lag a freshly established CRD by a moment: poll until kubectl sees the kinds. */
const untilServed = Effect.retry(kubectlOk(["get", "sbp,sbt", "-n", namespace]), {
  schedule: Schedule.spaced("500 millis"),
  times: 60,
})

beforeAll(
  () =>
    Effect.runPromise(
      Effect.gen(function* () {
        yield* kubectlOk([
          "apply",
          "--server-side",
          "--force-conflicts",
          "--field-manager=agent-sandbox-crds",
          "-f",
          crdsDir,
        ])
        yield* kubectlOk(["wait", "--for=condition=Established", "--timeout=120s", ...crdNames])
        yield* kubectlOk(["create", "namespace", namespace])
        yield* untilServed
      }),
    ),
  180_000,
)

afterAll(
  () =>
    Effect.runPromise(
      Effect.all([
        kubectl(["delete", "sbt", templateName, "--ignore-not-found", "--wait=false"]),
        kubectl(["delete", "namespace", namespace, "--ignore-not-found", "--wait=false"]),
      ]),
    ),
  60_000,
)

describe("the CRDs on the API server", () => {
  it.effect("are served: kubectl get sbp,sbt and the agent-sandbox category", () =>
    Effect.gen(function* () {
      const crds = yield* kubectlOk([
        "get",
        ...crdNames,
        "-o",
        "jsonpath={.items[*].status.conditions[?(@.type=='Established')].status}",
      ])
      assert.strictEqual(crds.trim(), "True True")
      yield* kubectlOk(["get", "sbp,sbt", "-n", namespace])
      yield* kubectlOk(["get", "agent-sandbox", "-n", namespace])
    }),
  )

  it.effect("accept a valid template and pools, filling in the defaults", () =>
    Effect.gen(function* () {
      yield* kubectlOk(
        ["create", "-f", "-"],
        JSON.stringify(
          template(templateName, {
            podTemplate,
            containerName: "sandbox",
            idleImage: "registry.k8s.io/pause:3.10",
            runtimes: [
              { name: "python", image: "python:3.13-slim", port: 8000, env: [{ name: "PYTHONUNBUFFERED" }] },
            ],
          }),
        ),
      )
      const storedTemplate = yield* getJson(`sbt/${templateName}`)
      const decodedTemplate = yield* Schema.decodeUnknown(SandboxTemplate)(storedTemplate)
      // Unknown Pod fields survive; defaults come from the API server itself.
      assert.deepStrictEqual<unknown>(decodedTemplate.spec.podTemplate, podTemplate)
      assert.deepStrictEqual(decodedTemplate.spec.runtimes[0]?.env, [{ name: "PYTHONUNBUFFERED", value: "" }])

      yield* kubectlOk(
        ["create", "-f", "-"],
        JSON.stringify(pool("by-ref", { templateRef: { name: templateName } })),
      )
      const stored = (yield* getJson("sbp/by-ref", "-n", namespace)) as { spec: Record<string, unknown> }
      assert.deepStrictEqual(stored.spec, {
        templateRef: { name: templateName },
        replicas: 1,
        burstReserve: "25%",
        useIdleImage: false,
        sandbox: { defaultTimeoutSeconds: 300, maxTimeoutSeconds: 86400, startupTimeoutSeconds: 60 },
        updateStrategy: { type: "InPlace", maxUnavailable: 1 },
        recyclePolicy: { type: "InPlace", acceptPodStateCarryOver: false },
        portAccess: "Public",
      })
      const decoded = yield* Schema.decodeUnknown(SandboxPool)(stored)
      assert.strictEqual(decoded.metadata.namespace, namespace)

      yield* kubectlOk(
        ["create", "-f", "-"],
        JSON.stringify(
          pool("inline", {
            template: { podTemplate },
            replicas: 0,
            maxPods: 10,
            autoscaling: { minReplicas: 0, maxReplicas: 5, scaleToZeroAfterSeconds: 600 },
            updateStrategy: { type: "Recreate", maxUnavailable: "25%" },
            recyclePolicy: { type: "Delete", maxReuses: 0 },
          }),
        ),
      )
      const inline = yield* Effect.flatMap(
        getJson("sbp/inline", "-n", namespace),
        Schema.decodeUnknown(SandboxPool),
      )
      assert.deepStrictEqual(inline.spec.autoscaling, {
        enabled: true,
        minReplicas: 0,
        maxReplicas: 5,
        scaleToZeroAfterSeconds: 600,
      })
      assert.deepStrictEqual(inline.spec.updateStrategy, { type: "Recreate", maxUnavailable: "25%" })
      assert.deepStrictEqual(inline.spec.template?.runtimes, [])
    }),
  )

  const rejectedPools: ReadonlyArray<readonly [string, Record<string, unknown>, string]> = [
    [
      "negative replicas",
      { templateRef: { name: "t" }, replicas: -1 },
      "should be greater than or equal to 0",
    ],
    ["a string for an integer", { templateRef: { name: "t" }, replicas: "three" }, "must be of type integer"],
    [
      "both templateRef and template",
      { templateRef: { name: "t" }, template: { podTemplate } },
      "exactly one of spec.templateRef and spec.template must be set",
    ],
    [
      "neither templateRef nor template",
      { replicas: 2 },
      "exactly one of spec.templateRef and spec.template must be set",
    ],
    [
      "a default timeout above the maximum",
      { templateRef: { name: "t" }, sandbox: { defaultTimeoutSeconds: 7200, maxTimeoutSeconds: 3600 } },
      "defaultTimeoutSeconds must not exceed maxTimeoutSeconds",
    ],
    [
      "an unknown update strategy",
      { templateRef: { name: "t" }, updateStrategy: { type: "Rolling" } },
      'Unsupported value: "Rolling": supported values: "InPlace", "Recreate"',
    ],
    [
      "a maxUnavailable that is no percentage",
      { templateRef: { name: "t" }, updateStrategy: { maxUnavailable: "lots" } },
      "should match",
    ],
    [
      "autoscaling minimum above maximum",
      { templateRef: { name: "t" }, autoscaling: { minReplicas: 4, maxReplicas: 2 } },
      "minReplicas must not exceed maxReplicas",
    ],
    [
      "a containerName that is not in the Pod template",
      { template: { podTemplate, containerName: "other" } },
      "containerName must name one of podTemplate.spec.containers",
    ],
    [
      "a Pod template without containers",
      { template: { podTemplate: { spec: { containers: [] } } } },
      "should have at least 1 items",
    ],
    [
      "duplicate runtime names",
      {
        template: {
          podTemplate,
          runtimes: [
            { name: "python", image: "a" },
            { name: "python", image: "b" },
          ],
        },
      },
      "Duplicate value",
    ],
  ]

  it.effect("reject invalid pools with a clear message from the API server", () =>
    Effect.forEach(rejectedPools, ([why, spec, message], index) =>
      Effect.gen(function* () {
        const result = yield* create(pool(`invalid-${index}`, spec))
        assert.notStrictEqual(result.exitCode, 0, `${why} was accepted`)
        assert.include(result.stderr, message, why)
        // Decoding applies the same rules: the operator never sees what the API server refused.
        assert.isTrue(
          Schema.decodeUnknownEither(SandboxPool)(pool(`invalid-${index}`, spec))._tag === "Left",
          why,
        )
      }),
    ),
  )

  it.effect("reject an invalid template", () =>
    Effect.gen(function* () {
      const spec = { podTemplate, runtimes: [{ name: "Python", image: "python:3.13", port: 70000 }] }
      const result = yield* create(template(`invalid-${suffix}`, spec))
      assert.notStrictEqual(result.exitCode, 0)
      assert.include(result.stderr, "spec.runtimes[0].name")
      assert.include(result.stderr, "spec.runtimes[0].port: Invalid value: 70000")
      assert.isTrue(Schema.decodeUnknownEither(SandboxTemplate)(template("t", spec))._tag === "Left")
    }),
  )

  it.effect("serve the scale subresource and the printer columns", () =>
    Effect.gen(function* () {
      yield* kubectlOk(
        ["create", "-f", "-"],
        JSON.stringify(pool("scaled", { templateRef: { name: templateName } })),
      )
      yield* kubectlOk(["scale", "sbp/scaled", "-n", namespace, "--replicas=3"])
      yield* kubectlOk([
        "patch",
        "sbp/scaled",
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        JSON.stringify({
          status: {
            replicas: 5,
            idleReplicas: 2,
            allocatedReplicas: 3,
            templateName,
            selector: "sandbox.agent-sandbox.dev/pool=scaled",
          },
        }),
      ])
      const scale = (yield* getJson("sbp/scaled", "-n", namespace, "--subresource=scale")) as {
        kind: string
        spec: { replicas: number }
        status: { replicas: number; selector: string }
      }
      assert.strictEqual(scale.kind, "Scale")
      assert.deepStrictEqual(scale.spec, { replicas: 3 })
      assert.deepStrictEqual(scale.status, { replicas: 2, selector: "sandbox.agent-sandbox.dev/pool=scaled" })

      const table = yield* kubectlOk(["get", "sbp/scaled", "-n", namespace])
      const [header, row] = table.trim().split("\n")
      assert.deepStrictEqual(header?.split(/\s+/), [
        "NAME",
        "TEMPLATE",
        "DESIRED",
        "IDLE",
        "ALLOCATED",
        "STARTING",
        "AGE",
      ])
      assert.deepStrictEqual(row?.split(/\s+/).slice(0, 6), ["scaled", templateName, "3", "2", "3", "0"])
    }),
  )
})
