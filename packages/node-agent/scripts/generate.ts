/**
 * Generates src/gen from ../../proto/cri with buf + protoc-gen-es (both from npm).
 * `--check` generates into a temporary directory and fails when src/gen differs (stale).
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative, resolve } from "node:path"

const packageDir = resolve(import.meta.dirname, "..")
const protoDir = resolve(packageDir, "../../proto/cri")
const genDir = join(packageDir, "src/gen")
const buf = resolve(packageDir, "../../node_modules/.bin/buf")

const generate = (outDir: string): void => {
  const template = readFileSync(join(packageDir, "buf.gen.yaml"), "utf8").replace(
    "out: src/gen",
    `out: ${outDir}`,
  )
  execFileSync(buf, ["generate", protoDir, "--template", template], { cwd: packageDir, stdio: "inherit" })
}

const listFiles = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? listFiles(path) : [path]
  })

const snapshot = (dir: string): Map<string, string> =>
  new Map(listFiles(dir).map((path) => [relative(dir, path), readFileSync(path, "utf8")]))

if (process.argv.includes("--check")) {
  const outDir = mkdtempSync(join(tmpdir(), "node-agent-gen-"))
  try {
    generate(outDir)
    const fresh = snapshot(outDir)
    const committed = snapshot(genDir)
    const stale = [...new Set([...fresh.keys(), ...committed.keys()])].filter(
      (file) => fresh.get(file) !== committed.get(file),
    )
    if (stale.length > 0) {
      console.error(
        `src/gen is stale (${stale.join(", ")}); run: npm run generate -w @agent-sandbox/node-agent`,
      )
      process.exit(1)
    }
    console.log("src/gen is up to date")
  } finally {
    rmSync(outDir, { recursive: true, force: true })
  }
} else {
  rmSync(genDir, { recursive: true, force: true })
  generate(genDir)
}
