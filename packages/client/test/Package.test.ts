import { execFile } from "node:child_process"
import { join } from "node:path"
import { promisify } from "node:util"
import { assert, describe, it } from "@effect/vitest"

const run = promisify(execFile)
const root = join(import.meta.dirname, "..")
const npm = "npm"

describe("the published package", () => {
  it("packs the built ESM bundles and declarations only, and they load", async () => {
    // `npm pack` runs the prepack build; --dry-run lists what the tarball would hold.
    const { stdout } = await run(npm, ["pack", "--dry-run", "--json", "--ignore-scripts=false"], {
      cwd: root,
      env: { ...process.env, npm_config_loglevel: "silent" },
    })
    const [pack] = JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>
    const files = pack!.files.map((f) => f.path)
    assert.includeMembers(files, [
      "package.json",
      "README.md",
      "dist/index.js",
      "dist/bin.js",
      "dist/types/client/src/index.d.ts",
      "dist/types/domain/src/api/index.d.ts",
    ])
    assert.deepStrictEqual(
      files.filter((f) => !(f.startsWith("dist/") || f === "package.json" || f === "README.md")),
      [],
    )
    // Nothing imports the unpublished domain package: it is bundled, its declarations shipped.
    const { stdout: grep } = await run("grep", [
      "-rlE",
      `(from |import\\()"@agent-sandbox/domain`,
      join(root, "dist"),
    ]).catch(() => ({ stdout: "" }))
    assert.strictEqual(grep, "")

    const module = await import(join(root, "dist/index.js"))
    for (const name of [
      "AgentSandbox",
      "SandboxHandle",
      "SandboxNotFoundError",
      "SandboxApi",
      "SandboxRpcs",
    ]) {
      assert.isDefined(module[name], name)
    }
    const { stdout: version } = await run(process.execPath, [join(root, "dist/bin.js"), "--version"])
    assert.strictEqual(version.trim(), "0.0.0")
  }, 180_000)
})
