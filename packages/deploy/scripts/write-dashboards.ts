// `npm run dashboards`: writes the Grafana dashboards (src/dashboards/Dashboards.ts) as JSON into
// chart/dashboards/ and docs/dashboards/; with --check (`npm run check`) fails when either is stale.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { parseArgs } from "node:util"
import * as Dashboards from "../src/dashboards/Dashboards.ts"

const repoRoot = join(import.meta.dirname, "../../..")
const { values } = parseArgs({ options: { check: { type: "boolean", default: false } } })
const stale: Array<string> = []
for (const dir of ["chart/dashboards", "docs/dashboards"]) {
  mkdirSync(join(repoRoot, dir), { recursive: true })
  for (const [name, dashboard] of Dashboards.all) {
    const file = join(repoRoot, dir, `${name}.json`)
    const content = `${JSON.stringify(dashboard, null, 2)}\n`
    if (values.check) {
      if (!existsSync(file) || readFileSync(file, "utf8") !== content) stale.push(join(dir, `${name}.json`))
    } else writeFileSync(file, content)
  }
}
if (stale.length > 0) {
  console.error(`dashboards: stale ${stale.join(", ")}; run \`npm run dashboards\` and commit the result`)
  process.exit(1)
}
console.log(
  values.check ? "dashboards: up to date" : "dashboards: wrote chart/dashboards and docs/dashboards",
)
