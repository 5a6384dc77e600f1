import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { check, type SourceFile } from "../Check.ts"
import { specifiers } from "../ImportScan.ts"
import { parse, RulesError } from "../Rules.ts"

// Small trees in the repository's shape, checked against rules written as docs/architecture.md
// writes them.
const rules = parse(`
# Architecture

<!-- dependency-check: packages -->
| package | may import | its tests and scripts may also import |
| --- | --- | --- |
| \`domain\` | — | — |
| \`kube\` | — | — |
| \`operator\` (pool controller) | \`kube\`, \`domain\` | \`testing\` |
| \`server\` | \`operator\`, \`kube\` | \`testing\`, \`testing/operator\` |
| \`testing\` | \`kube\` | — |
| \`testing/operator\` | \`server\`, \`kube\`, \`testing\` | — |
| \`sdk-tests\`, \`bench\` | anything | — |

<!-- dependency-check: folders packages/operator/src -->
| folder | may import |
| --- | --- |
| \`sandbox\` | — |
| \`cluster\` | \`sandbox\` |
| \`pool\` | \`sandbox\`, \`cluster\` |
`)

const tree = (files: Record<string, string>): ReadonlyArray<SourceFile> =>
  Object.entries(files).map(([path, source]) => ({ path, source }))

const messages = (files: Record<string, string>) =>
  check(tree(files), rules).map((v) => `${v.file}: ${v.specifier}: ${v.message}`)

describe("ImportScan", () => {
  it("finds static, type-only, multi-line, side-effect, re-export and dynamic imports", () => {
    const source = [
      `import { a } from "./a.ts"`,
      `import type { B } from "@agent-sandbox/kube"`,
      `import {`,
      `  c,`,
      `  type D,`,
      `} from "../c.ts"`,
      `import "./side-effect.ts"`,
      `export * as E from "./e.ts"`,
      `export type { F } from './f.ts'`,
      `const g = await import("./g.ts")`,
    ].join("\n")
    assert.deepStrictEqual(specifiers(source), [
      "./a.ts",
      "@agent-sandbox/kube",
      "../c.ts",
      "./side-effect.ts",
      "./e.ts",
      "./f.ts",
      "./g.ts",
    ])
  })

  it("takes no comment or string for an import", () => {
    const source = [
      `/**`,
      ` * import { x } from "@agent-sandbox/server"`,
      ` */`,
      `// import { y } from "@agent-sandbox/server"`,
      `export const text = "see packages/*/test and http://x/*"`,
      `export const z = Array.from("abc")`,
      `import { ok } from "./ok.ts"`,
    ].join("\n")
    assert.deepStrictEqual(specifiers(source), ["./ok.ts"])
  })
})

describe("Rules", () => {
  it("reads both tables: rows of several packages, an entry, anything, none", () => {
    assert.deepStrictEqual(
      [...rules.units.keys()],
      ["domain", "kube", "operator", "server", "testing", "testing/operator", "sdk-tests", "bench"],
    )
    assert.deepStrictEqual([...rules.units.get("operator")!.imports], ["kube", "domain"])
    assert.deepStrictEqual([...rules.units.get("operator")!.devImports], ["testing"])
    assert.strictEqual(rules.units.get("kube")!.imports.size, 0)
    assert.isTrue(rules.units.get("bench")!.anything)
    assert.strictEqual(rules.folders[0]!.root, "packages/operator/src")
    assert.deepStrictEqual([...rules.folders[0]!.folders.get("pool")!], ["sandbox", "cluster"])
  })

  it("reads the repository's own docs/architecture.md", () => {
    const real = parse(readFileSync(join(import.meta.dirname, "../../../docs/architecture.md"), "utf8"))
    for (const unit of ["domain", "kube", "operator", "envd", "server", "testing", "testing/operator"])
      assert.isTrue(real.units.has(unit), unit)
    assert.deepStrictEqual(
      [...real.folders[0]!.folders.keys()],
      ["metrics", "sandbox", "cluster", "allocation", "pool"],
    )
  })

  it("refuses a document without the packages table", () => {
    assert.throws(() => parse("# nothing here"), RulesError)
  })
})

describe("package directions", () => {
  it("passes imports along the table, tests' extra imports and an allowed entry", () => {
    assert.deepStrictEqual(
      messages({
        "packages/kube/src/KubeClient.ts": `import { Effect } from "effect"\nimport { x } from "./x.ts"`,
        "packages/operator/src/Operator.ts": `import { KubeClient } from "@agent-sandbox/kube"\nimport type { D } from "@agent-sandbox/domain"`,
        "packages/operator/test/Operator.test.ts": `import { Eventually } from "@agent-sandbox/testing"\nimport { Operator } from "../src/Operator.ts"`,
        "packages/server/test/Rest.test.ts": `import { OperatorHarness } from "@agent-sandbox/testing/operator"`,
        "packages/testing/src/operator/Harness.ts": `import { OperatorServer } from "@agent-sandbox/server"\nimport * as Eventually from "../Eventually.ts"`,
        "bench/allocation/main.ts": `import { x } from "../../packages/server/test/whatever.ts"\nimport { y } from "@agent-sandbox/server/src/deep.ts"`,
      }),
      [],
    )
  })

  it("fails an import against the direction, type-only ones included", () => {
    assert.deepStrictEqual(
      messages({
        "packages/kube/src/Bad.ts": `import type { Sandboxes } from "@agent-sandbox/operator"`,
        "packages/operator/src/Bad.ts": `import { RestServer } from "@agent-sandbox/server"`,
        "packages/testing/src/Bad.ts": `import { Pools } from "./operator/Pools.ts"`,
      }),
      [
        `packages/kube/src/Bad.ts: @agent-sandbox/operator: kube may not import operator: it may import nothing of ours`,
        `packages/operator/src/Bad.ts: @agent-sandbox/server: operator may not import server: it may import kube, domain`,
        `packages/testing/src/Bad.ts: ./operator/Pools.ts: testing may not import testing/operator: it may import kube`,
      ],
    )
  })

  it("keeps tests' extra imports out of the package's own source", () => {
    assert.deepStrictEqual(
      messages({ "packages/operator/src/Uses.ts": `import { Eventually } from "@agent-sandbox/testing"` }),
      [
        `packages/operator/src/Uses.ts: @agent-sandbox/testing: operator may not import testing: it may import kube, domain`,
      ],
    )
  })

  it("fails a deep import and a relative path into another package", () => {
    assert.deepStrictEqual(
      messages({
        "packages/server/src/Deep.ts": `import { WarmQueue } from "@agent-sandbox/operator/src/allocation/WarmQueue.ts"`,
        "packages/server/test/ByPath.test.ts": `import { x } from "../../operator/src/Operator.ts"`,
      }),
      [
        `packages/server/src/Deep.ts: @agent-sandbox/operator/src/allocation/WarmQueue.ts: imports a deep path of operator; import its package entry @agent-sandbox/operator`,
        `packages/server/test/ByPath.test.ts: ../../operator/src/Operator.ts: reaches into packages/operator by path; import @agent-sandbox/operator`,
      ],
    )
  })

  it("fails a package the table does not name", () => {
    assert.deepStrictEqual(
      messages({ "packages/client/src/Client.ts": `import { Api } from "@agent-sandbox/domain"` }),
      [
        `packages/client/src/Client.ts: @agent-sandbox/domain: package "client" has no row in docs/architecture.md's dependency table`,
      ],
    )
  })
})

describe("operator folder directions", () => {
  it("passes imports toward sandbox, within a folder, and from the top level", () => {
    assert.deepStrictEqual(
      messages({
        "packages/operator/src/sandbox/SandboxPod.ts": `import { ImageRef } from "./ImageRef.ts"`,
        "packages/operator/src/cluster/Informer.ts": `import * as SandboxPod from "../sandbox/SandboxPod.ts"`,
        "packages/operator/src/pool/PoolReconciler.ts": `import { Informer } from "../cluster/Informer.ts"\nimport * as SandboxPod from "../sandbox/SandboxPod.ts"`,
        "packages/operator/src/Sandboxes.ts": `import { Informer } from "./cluster/Informer.ts"\nimport * as P from "./pool/PoolReconciler.ts"`,
      }),
      [],
    )
  })

  it("fails an import back up the chain, into the top level, or from a folder without a row", () => {
    assert.deepStrictEqual(
      messages({
        "packages/operator/src/sandbox/Recycler.ts": `import { SandboxCache } from "../cluster/SandboxCache.ts"`,
        "packages/operator/src/cluster/SandboxCache.ts": `import type { X } from "../pool/CreateExpectations.ts"`,
        "packages/operator/src/pool/Back.ts": `import { Sandboxes } from "../Sandboxes.ts"`,
        "packages/operator/src/misc/Thing.ts": `import * as S from "../sandbox/SandboxPod.ts"`,
      }),
      [
        `packages/operator/src/sandbox/Recycler.ts: ../cluster/SandboxCache.ts: sandbox/ may not import cluster/: it may import no other folder`,
        `packages/operator/src/cluster/SandboxCache.ts: ../pool/CreateExpectations.ts: cluster/ may not import pool/: it may import sandbox`,
        `packages/operator/src/pool/Back.ts: ../Sandboxes.ts: pool/ imports the top of packages/operator/src; folders point away from it, never back`,
        `packages/operator/src/misc/Thing.ts: ../sandbox/SandboxPod.ts: folder packages/operator/src/misc has no row in docs/architecture.md's folder table`,
      ],
    )
  })
})
