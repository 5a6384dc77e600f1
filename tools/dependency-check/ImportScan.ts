/**
 * The module specifiers a TypeScript file names: static imports and re-exports (type-only ones
 * too: a type couples packages as much as a value does), side-effect imports and `import("...")`.
 *
 * A scan rather than a parse: TypeScript 7 has no JavaScript API, esbuild drops type-only imports
 * before reporting any, and dependency-cruiser needs one of the two for .ts files. Statements are
 * found at the start of a line, as Biome formats them, so comment text (` * import ...`) is not
 * taken for one; a specifier is any string after `from`, so a statement over several lines is found.
 */
const statement =
  /^[ \t]*(?:import|export)\b[^;"'`]*?\bfrom[ \t]*["']([^"'\n]+)["']|^[ \t]*import[ \t]*["']([^"'\n]+)["']/gm
const dynamic = /\bimport\([ \t\n]*["']([^"'\n]+)["'][ \t\n]*\)/g

export const specifiers = (source: string): ReadonlyArray<string> => {
  const found: Array<string> = []
  for (const match of source.matchAll(statement)) found.push((match[1] ?? match[2])!)
  for (const match of source.matchAll(dynamic)) found.push(match[1]!)
  return found
}
