import { spawnSync } from "node:child_process"
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import { parse } from "yaml"
import * as CrdFiles from "../src/crd/CrdFiles.ts"
import type { CustomResourceDefinition } from "../src/crd/CustomResourceDefinition.ts"
import * as SandboxCrds from "../src/crd/SandboxCrds.ts"
import type { Structural } from "../src/crd/StructuralSchema.ts"

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url))
const crdsDir = join(repoRoot, "crds")
const script = join(repoRoot, "packages/domain/scripts/write-crds.ts")

const crds = Either.getOrThrowWith(SandboxCrds.all(), (error) => new Error(error.message))
const expectedFiles = Either.getOrThrowWith(CrdFiles.expected(), (error) => new Error(error.message))

const schemaOf = (crd: CustomResourceDefinition): Structural => crd.spec.versions[0]!.schema.openAPIV3Schema

/** Independent of the converter: the rules of a structural schema, and what Kubernetes 1.26 accepts. */
const violations = (node: Structural, path: string, isRoot = false): Array<string> => {
  const found: Array<string> = []
  const raw = node as Record<string, unknown>
  for (const key of ["$ref", "oneOf", "allOf", "not", "definitions", "nullable", "additionalItems"]) {
    if (key in raw) found.push(`${path}: uses ${key}`)
  }
  const intOrString = node["x-kubernetes-int-or-string"] === true
  if (node.type === undefined && !intOrString && node["x-kubernetes-preserve-unknown-fields"] !== true) {
    found.push(`${path}: no type`)
  }
  if (node.anyOf !== undefined) {
    const isIntOrStringForm =
      intOrString && JSON.stringify(node.anyOf) === JSON.stringify([{ type: "integer" }, { type: "string" }])
    if (!isIntOrStringForm) found.push(`${path}: anyOf outside the int-or-string form`)
  }
  const isField = !isRoot && !["[]", "*"].includes(path.split(".").at(-1) ?? "")
  if (isField && (node.description ?? "").length < 10) {
    found.push(`${path}: no description for kubectl explain`)
  }
  for (const rule of node["x-kubernetes-validations"] ?? []) {
    const keys = Object.keys(rule).sort()
    if (JSON.stringify(keys) !== JSON.stringify(["message", "rule"])) found.push(`${path}: rule uses ${keys}`)
  }
  if (node.properties !== undefined && node.additionalProperties !== undefined) {
    found.push(`${path}: properties and additionalProperties together`)
  }
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    // The API server allows no keyword on metadata but type (kubectl explain describes it itself).
    if (isRoot && name === "metadata") {
      if (JSON.stringify(child) !== JSON.stringify({ type: "object" }))
        found.push(`${path}.metadata: not a bare object`)
    } else {
      found.push(...violations(child, `${path}.${name}`))
    }
  }
  if (node.items !== undefined) found.push(...violations(node.items, `${path}.[]`))
  if (node.additionalProperties !== undefined)
    found.push(...violations(node.additionalProperties, `${path}.*`))
  return found
}

/** The schema node a simple JSONPath (.a.b) reaches, as printer columns and the scale subresource use. */
const nodeAt = (root: Structural, jsonPath: string): Structural | undefined =>
  jsonPath
    .split(".")
    .slice(1)
    .reduce<Structural | undefined>((node, name) => node?.properties?.[name], root)

describe("the sandbox CRDs", () => {
  it("are structural schemas that read well in kubectl explain", () => {
    for (const crd of crds) assert.deepStrictEqual(violations(schemaOf(crd), crd.spec.names.kind, true), [])
  })

  it("point printer columns and the scale subresource at fields that exist", () => {
    for (const crd of crds) {
      const version = crd.spec.versions[0]!
      for (const column of version.additionalPrinterColumns ?? []) {
        const node = nodeAt(schemaOf(crd), column.jsonPath)
        if (column.jsonPath === ".metadata.creationTimestamp") continue
        assert.isDefined(node, `${crd.spec.names.kind} column ${column.name}: ${column.jsonPath}`)
        assert.strictEqual(node?.type, column.type === "date" ? "string" : column.type)
      }
      const scale = version.subresources?.scale
      if (scale !== undefined) {
        assert.strictEqual(nodeAt(schemaOf(crd), scale.specReplicasPath)?.type, "integer")
        assert.strictEqual(nodeAt(schemaOf(crd), scale.statusReplicasPath)?.type, "integer")
        assert.strictEqual(nodeAt(schemaOf(crd), scale.labelSelectorPath ?? "")?.type, "string")
      }
    }
  })

  it("render to YAML that parses back to the same objects", () => {
    assert.deepStrictEqual(
      expectedFiles.map((file) => parse(file.content)),
      crds.map((crd) => JSON.parse(JSON.stringify(crd))),
    )
  })
})

describe("crds/", () => {
  it("holds exactly what the Schemas generate (run `npm run crds` after changing them)", () => {
    const onDisk = new Map(
      readdirSync(crdsDir)
        .filter((name) => name.endsWith(".yaml"))
        .map((name) => [name, readFileSync(join(crdsDir, name), "utf8")] as const),
    )
    assert.deepStrictEqual(CrdFiles.staleFiles(expectedFiles, onDisk), [])
  })

  it("is reported stale by `crds:check` once edited by hand, naming the file", () => {
    const scratch = mkdtempSync(join(tmpdir(), "crds-"))
    try {
      cpSync(crdsDir, scratch, { recursive: true })
      const check = () =>
        spawnSync(process.execPath, [script, "--check", "--dir", scratch], {
          encoding: "utf8",
          timeout: 30_000,
        })
      assert.strictEqual(check().status, 0)

      const edited = join(scratch, expectedFiles[0]!.name)
      writeFileSync(edited, readFileSync(edited, "utf8").replace("minimum: 0", "minimum: 1"))
      const stale = check()
      assert.strictEqual(stale.status, 1)
      assert.include(stale.stderr, `${expectedFiles[0]!.name} differs from what the Schemas generate`)

      const regenerate = spawnSync(process.execPath, [script, "--dir", scratch], { encoding: "utf8" })
      assert.strictEqual(regenerate.status, 0)
      assert.strictEqual(check().status, 0)
    } finally {
      rmSync(scratch, { recursive: true, force: true })
    }
  })

  it("flags missing and leftover files", () => {
    const [first, ...rest] = expectedFiles
    const onDisk = new Map([...rest.map((file) => [file.name, file.content] as const), ["old.yaml", "x"]])
    assert.deepStrictEqual(CrdFiles.staleFiles(expectedFiles, onDisk), [
      { name: first!.name, problem: "missing" },
      { name: "old.yaml", problem: "unexpected" },
    ])
  })
})
