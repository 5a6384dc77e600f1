// Writes docs/openapi.json from the HttpApi definition (`npm run openapi`); with --check, fails
// when the committed document is stale (`npm run check`). The SDK generators read that file.
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { SandboxApi } from "@agent-sandbox/domain"
import { OpenApi } from "@effect/platform"

const target = join(import.meta.dirname, "../../../docs/openapi.json")
const document = `${JSON.stringify(OpenApi.fromApi(SandboxApi), null, 2)}\n`

if (process.argv.includes("--check")) {
  let current = ""
  try {
    current = readFileSync(target, "utf8")
  } catch {}
  if (current !== document) {
    console.error("docs/openapi.json is stale: run `npm run openapi` and commit it")
    process.exit(1)
  }
  console.log("openapi: docs/openapi.json is up to date")
} else {
  writeFileSync(target, document)
  console.log("openapi: wrote docs/openapi.json")
}
