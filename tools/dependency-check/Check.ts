import { posix } from "node:path"
import { specifiers } from "./ImportScan.ts"
import type { Rules, UnitRule } from "./Rules.ts"

/** A source file: its path from the repository root (posix) and its text. */
export interface SourceFile {
  readonly path: string
  readonly source: string
}

export interface Violation {
  readonly file: string
  readonly specifier: string
  readonly message: string
}

const scope = "@agent-sandbox/"

/** Which unit a repository path belongs to: a package, a package's entry, or bench. */
interface Place {
  readonly unit: string
  /** The package directory, e.g. packages/testing. */
  readonly root: string
  /** test/ and scripts/ may import more. */
  readonly dev: boolean
}

const placeOf = (path: string, rules: Rules): Place | undefined => {
  const parts = path.split("/")
  if (parts[0] === "bench") return { unit: "bench", root: "bench", dev: true }
  if (parts[0] !== "packages" || parts.length < 3) return undefined
  const pkg = parts[1]!
  const root = `packages/${pkg}`
  const dev = parts[2] === "test" || parts[2] === "scripts"
  // An entry of its own (packages/testing/src/operator -> testing/operator) when the rules name one.
  const entry = parts[2] === "src" && parts.length > 4 ? `${pkg}/${parts[3]}` : undefined
  return { unit: entry !== undefined && rules.units.has(entry) ? entry : pkg, root, dev }
}

const packageOf = (unit: string): string => unit.split("/")[0]!

const allowed = (rule: UnitRule, from: Place, target: string): boolean =>
  target === from.unit ||
  rule.anything ||
  rule.imports.has(target) ||
  (from.dev && rule.devImports.has(target))

const describe = (rule: UnitRule, from: Place): string => {
  const list = [...rule.imports, ...(from.dev ? rule.devImports : [])]
  return list.length === 0 ? "nothing of ours" : list.join(", ")
}

/** Package directions: by package name, or by a relative path that leaves the package. */
const checkPackages = (file: SourceFile, specifier: string, rules: Rules): ReadonlyArray<Violation> => {
  const from = placeOf(file.path, rules)
  if (from === undefined) return []
  const rule = rules.units.get(from.unit)
  if (rule === undefined) {
    return [
      {
        file: file.path,
        specifier,
        message: `package "${from.unit}" has no row in docs/architecture.md's dependency table`,
      },
    ]
  }
  let target: string
  if (specifier.startsWith(scope)) {
    target = specifier.slice(scope.length)
    if (target.includes("/") && !rules.units.has(target)) {
      return rule.anything
        ? []
        : [
            {
              file: file.path,
              specifier,
              message: `imports a deep path of ${packageOf(target)}; import its package entry ${scope}${packageOf(target)}`,
            },
          ]
    }
  } else if (specifier.startsWith(".")) {
    const resolved = posix.normalize(posix.join(posix.dirname(file.path), specifier))
    const to = placeOf(resolved, rules)
    if (to === undefined || to.unit === from.unit) return []
    if (to.root !== from.root && !rule.anything) {
      return [
        {
          file: file.path,
          specifier,
          message: `reaches into ${to.root} by path; import ${scope}${packageOf(to.unit)}`,
        },
      ]
    }
    target = to.unit
  } else {
    return []
  }
  return allowed(rule, from, target)
    ? []
    : [
        {
          file: file.path,
          specifier,
          message: `${from.unit}${from.dev ? " (tests/scripts)" : ""} may not import ${target}: it may import ${describe(rule, from)}`,
        },
      ]
}

/** Folder directions inside one package's source root (e.g. the operator's). */
const checkFolders = (file: SourceFile, specifier: string, rules: Rules): ReadonlyArray<Violation> => {
  if (!specifier.startsWith(".")) return []
  const violations: Array<Violation> = []
  for (const { root, folders } of rules.folders) {
    if (!file.path.startsWith(`${root}/`)) continue
    const fromParts = file.path.slice(root.length + 1).split("/")
    // Files at the top of the root (the package's front: index.ts, Operator.ts, ...) may import any folder.
    if (fromParts.length < 2) continue
    const folder = fromParts[0]!
    const resolved = posix.normalize(posix.join(posix.dirname(file.path), specifier))
    if (!resolved.startsWith(`${root}/`)) continue
    const toParts = resolved.slice(root.length + 1).split("/")
    const may = folders.get(folder)
    if (may === undefined) {
      violations.push({
        file: file.path,
        specifier,
        message: `folder ${root}/${folder} has no row in docs/architecture.md's folder table`,
      })
      continue
    }
    if (toParts.length < 2) {
      violations.push({
        file: file.path,
        specifier,
        message: `${folder}/ imports the top of ${root}; folders point away from it, never back`,
      })
      continue
    }
    const target = toParts[0]!
    if (target !== folder && !may.has(target)) {
      const list = may.size === 0 ? "no other folder" : [...may].join(", ")
      violations.push({
        file: file.path,
        specifier,
        message: `${folder}/ may not import ${target}/: it may import ${list}`,
      })
    }
  }
  return violations
}

export const check = (files: ReadonlyArray<SourceFile>, rules: Rules): ReadonlyArray<Violation> =>
  files.flatMap((file) =>
    specifiers(file.source).flatMap((specifier) => [
      ...checkPackages(file, specifier, rules),
      ...checkFolders(file, specifier, rules),
    ]),
  )
