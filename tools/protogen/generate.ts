/**
 * Generates a package's src/gen from proto/<name> with buf + protoc-gen-es (both from npm), for
 * every package that serves or calls a protobuf API (envd, extproc, node-agent). Run in the
 * package's directory (npm run generate -w <package> does): `node ../../tools/protogen/generate.ts
 * <name> [--check]`. `--check` generates into a temporary directory and fails when src/gen differs.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative, resolve } from "node:path"

const name = process.argv[2]
if (name === undefined || name.startsWith("-")) {
  console.error("usage: generate.ts <proto folder name> [--check]")
  process.exit(2)
}
const repoDir = resolve(import.meta.dirname, "../..")
const packageDir = process.cwd()
const packageName = (JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { name: string })
  .name
const protoDir = join(repoDir, "proto", name)
const genDir = join(packageDir, "src/gen")
const buf = join(repoDir, "node_modules/.bin/buf")

const generate = (outDir: string): void => {
  const template = readFileSync(join(packageDir, "buf.gen.yaml"), "utf8").replace(
    "out: src/gen",
    `out: ${outDir}`,
  )
  execFileSync(buf, ["generate", protoDir, "--template", template], { cwd: packageDir, stdio: "inherit" })
}

const listFiles = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry)
    return statSync(path).isDirectory() ? listFiles(path) : [path]
  })

const snapshot = (dir: string): Map<string, string> =>
  new Map(listFiles(dir).map((path) => [relative(dir, path), readFileSync(path, "utf8")]))

if (process.argv.includes("--check")) {
  const outDir = mkdtempSync(join(tmpdir(), `${name}-gen-`))
  try {
    generate(outDir)
    const fresh = snapshot(outDir)
    const committed = snapshot(genDir)
    const stale = [...new Set([...fresh.keys(), ...committed.keys()])].filter(
      (file) => fresh.get(file) !== committed.get(file),
    )
    if (stale.length > 0) {
      console.error(`src/gen is stale (${stale.join(", ")}); run: npm run generate -w ${packageName}`)
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
