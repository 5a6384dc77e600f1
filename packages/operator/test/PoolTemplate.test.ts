import type { SandboxTemplateSpec } from "@agent-sandbox/domain"
import { assert, describe, it } from "@effect/vitest"
import { Either, Option } from "effect"
import * as PoolTemplate from "../src/sandbox/PoolTemplate.ts"

const spec: SandboxTemplateSpec = {
  podTemplate: { spec: { containers: [{ name: "sandbox", image: "busybox:1.36" }] } },
  idleImage: "pause:3.10",
  runtimes: [{ name: "python", image: "python:3.12", env: [{ name: "A", value: "1" }] }],
}
const template = Option.some({ name: "t", spec })

describe("PoolTemplate.wanted", () => {
  it("resolves a runtime by name, with its env for the data plane", () => {
    assert.deepStrictEqual(
      PoolTemplate.wanted(template, { runtime: "python" }),
      Either.right({ image: "python:3.12", runtime: { name: "python", env: { A: "1" } } }),
    )
  })

  it("takes an image as named, and the template's own image (not the idle image) by default", () => {
    assert.deepStrictEqual(
      PoolTemplate.wanted(template, { image: "node:22" }),
      Either.right({ image: "node:22", runtime: undefined }),
    )
    assert.deepStrictEqual(
      PoolTemplate.wanted(template, {}),
      Either.right({ image: "busybox:1.36", runtime: undefined }),
    )
  })

  it("refuses an unknown runtime, both at once, or a choice without a template", () => {
    const refused = (result: ReturnType<typeof PoolTemplate.wanted>) => result._tag === "Left"
    assert.isTrue(refused(PoolTemplate.wanted(template, { runtime: "ruby" })))
    assert.isTrue(refused(PoolTemplate.wanted(template, { runtime: "python", image: "x" })))
    assert.isTrue(refused(PoolTemplate.wanted(Option.none(), { image: "x" })))
    assert.deepStrictEqual(PoolTemplate.wanted(Option.none(), {}), Either.right(undefined))
  })
})
