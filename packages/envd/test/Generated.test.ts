import { execFileSync } from "node:child_process"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"

describe("generated code", () => {
  it("src/gen is what buf + protoc-gen-es make of proto/envd (npm run generate -w @agent-sandbox/envd)", () => {
    const script = join(import.meta.dirname, "../../../tools/protogen/generate.ts")
    const output = execFileSync(process.execPath, [script, "envd", "--check"], {
      cwd: join(import.meta.dirname, ".."),
      encoding: "utf8",
      stdio: "pipe",
    })
    expect(output).toContain("up to date")
  })
})
