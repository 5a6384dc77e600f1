/**
 * The dependency directions, read from the tables of docs/architecture.md that follow the markers
 * `<!-- dependency-check: packages -->` and `<!-- dependency-check: folders <path> -->`, so the
 * document and the check cannot drift apart.
 *
 * Packages table: | `name` (more text allowed) | may import | its tests and scripts may also import |
 * Folders table:  | `folder` | may import |
 * A cell lists names in backticks; "—" is none, "anything" is any. A package row may name an entry
 * of a package (`testing/operator`: packages/testing/src/operator, imported as
 * @agent-sandbox/testing/operator).
 */
export interface UnitRule {
  readonly anything: boolean
  readonly imports: ReadonlySet<string>
  /** What its test/ and scripts/ may import besides. */
  readonly devImports: ReadonlySet<string>
}

export interface FolderRules {
  /** e.g. packages/operator/src */
  readonly root: string
  readonly folders: ReadonlyMap<string, ReadonlySet<string>>
}

export interface Rules {
  readonly units: ReadonlyMap<string, UnitRule>
  readonly folders: ReadonlyArray<FolderRules>
}

export class RulesError extends Error {
  override readonly name = "RulesError"
}

const marker = /^<!--\s*dependency-check:\s*(packages|folders)\s*(\S*)\s*-->\s*$/

const cells = (line: string): ReadonlyArray<string> =>
  line
    .trim()
    .replace(/^\||\|$/g, "")
    .split("|")
    .map((cell) => cell.trim())

const names = (cell: string): ReadonlyArray<string> => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!)

/** The body rows of the table that starts at or after `from` (header and separator skipped). */
const tableRows = (lines: ReadonlyArray<string>, from: number): ReadonlyArray<ReadonlyArray<string>> => {
  let i = from
  while (i < lines.length && !lines[i]!.trim().startsWith("|")) i++
  const rows: Array<ReadonlyArray<string>> = []
  for (i += 2; i < lines.length && lines[i]!.trim().startsWith("|"); i++) rows.push(cells(lines[i]!))
  return rows
}

export const parse = (markdown: string): Rules => {
  const lines = markdown.split("\n")
  const units = new Map<string, UnitRule>()
  const folders: Array<FolderRules> = []
  lines.forEach((line, index) => {
    const found = marker.exec(line.trim())
    if (found === null) return
    const rows = tableRows(lines, index + 1)
    if (rows.length === 0) throw new RulesError(`no table after the marker on line ${index + 1}`)
    if (found[1] === "packages") {
      for (const row of rows) {
        const anything = (row[1] ?? "").toLowerCase().includes("anything")
        const rule = {
          anything,
          imports: new Set(names(row[1] ?? "")),
          devImports: new Set(names(row[2] ?? "")),
        }
        const named = names(row[0] ?? "")
        if (named.length === 0) throw new RulesError(`a package row names no package: ${row.join(" | ")}`)
        for (const unit of named) units.set(unit, rule)
      }
    } else {
      const root = found[2] ?? ""
      if (root === "") throw new RulesError(`the folders marker on line ${index + 1} names no path`)
      const map = new Map<string, ReadonlySet<string>>()
      for (const row of rows)
        for (const folder of names(row[0] ?? "")) map.set(folder, new Set(names(row[1] ?? "")))
      folders.push({ root: root.replace(/\/+$/, ""), folders: map })
    }
  })
  if (units.size === 0) throw new RulesError("no `<!-- dependency-check: packages -->` table found")
  return { units, folders }
}
