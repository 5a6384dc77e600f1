/**
 * `kubectl auth can-i --list` as the lines OperatorPermissions writes (`<verb> <group>/<resource>[/<name>]`),
 * so the chart's install test can compare what kubectl prints for the ServiceAccount with what the
 * operator needs. kubectl writes a resource as `<resource>[.<group>][/<subresource>]` and lists
 * names and verbs in brackets; rows without a resource are non-resource URLs (left out).
 */
import { line } from "../src/OperatorPermissions.ts"

const row = /^(\S+)\s+\[[^\]]*\]\s+\[([^\]]*)\]\s+\[([^\]]*)\]\s*$/
const resourceColumn = /^([^./]+)(?:\.([^/]+))?(\/.+)?$/

const words = (list: string) => list.split(" ").filter((w) => w !== "")

export const linesOf = (text: string): ReadonlyArray<string> => {
  const lines = new Set<string>()
  for (const printed of text.split("\n")) {
    const match = row.exec(printed)
    if (match === null || match[1] === "Resources") continue
    const [, column = "", names = "", verbs = ""] = match
    const resource = resourceColumn.exec(column)
    if (resource === null) throw new Error(`kubectl auth can-i --list: unexpected resource ${column}`)
    const [, plural = "", group = "", subresource = ""] = resource
    for (const verb of words(verbs))
      for (const name of names.trim() === "" ? [undefined] : words(names))
        lines.add(
          line(
            name === undefined
              ? { scope: "cluster", group, resource: `${plural}${subresource}`, verb }
              : { scope: "cluster", group, resource: `${plural}${subresource}`, verb, name },
          ),
        )
  }
  return [...lines].sort()
}
