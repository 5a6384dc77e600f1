// `npm run deps:check`: fails when a package, a package entry or a folder of the operator imports
// against the directions written in docs/architecture.md (see Rules.ts for the tables it reads).
import { readdirSync, readFileSync } from "node:fs"
import { join, relative, sep } from "node:path"
import { check, type SourceFile } from "./Check.ts"
import { parse } from "./Rules.ts"

const root = join(import.meta.dirname, "../..")
const skipped = new Set(["node_modules", "dist", "gen", ".tsbuild"])
const sourceFile = /\.(?:[cm]?ts|tsx|[cm]?js)$/

const walk = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? skipped.has(entry.name) || entry.name.startsWith(".")
        ? []
        : walk(join(dir, entry.name))
      : sourceFile.test(entry.name) && !entry.name.endsWith(".d.ts")
        ? [join(dir, entry.name)]
        : [],
  )

const files: ReadonlyArray<SourceFile> = ["packages", "bench"]
  .flatMap((dir) => walk(join(root, dir)))
  .map((path) => ({ path: relative(root, path).split(sep).join("/"), source: readFileSync(path, "utf8") }))
const rules = parse(readFileSync(join(root, "docs/architecture.md"), "utf8"))
const violations = check(files, rules)

for (const v of violations) console.error(`${v.file}: "${v.specifier}": ${v.message}`)
if (violations.length > 0) {
  console.error(
    `\n${violations.length} import(s) against the directions in docs/architecture.md (${files.length} files checked)`,
  )
  process.exit(1)
}
console.log(`dependency directions: ${files.length} files follow docs/architecture.md`)
