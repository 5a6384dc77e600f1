// Writes the OpenAPI documents from the HttpApi definitions (`npm run openapi`): docs/openapi.json
// (the REST API; the SDK generators read it) and docs/e2b-openapi.json (the E2B-compatible API).
// With --check, fails when a committed document is stale (`npm run check`).
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { E2bApi, SandboxApi } from "@agent-sandbox/domain"
import { OpenApi } from "@effect/platform"

const docs = join(import.meta.dirname, "../../../docs")
const documents = [
  { file: "openapi.json", spec: OpenApi.fromApi(SandboxApi) },
  { file: "e2b-openapi.json", spec: OpenApi.fromApi(E2bApi.E2bApi) },
]

const check = process.argv.includes("--check")
let stale = false
for (const { file, spec } of documents) {
  const target = join(docs, file)
  const document = `${JSON.stringify(spec, null, 2)}\n`
  if (check) {
    let current = ""
    try {
      current = readFileSync(target, "utf8")
    } catch {}
    if (current !== document) {
      console.error(`docs/${file} is stale: run \`npm run openapi\` and commit it`)
      stale = true
    } else {
      console.log(`openapi: docs/${file} is up to date`)
    }
  } else {
    writeFileSync(target, document)
    console.log(`openapi: wrote docs/${file}`)
  }
}
if (stale) process.exit(1)
