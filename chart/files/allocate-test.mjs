// The chart's test (`helm test`, and the install test on the local control plane): allocate a
// sandbox from a pool with the admin key, read it back, release it. Plain Node, no dependencies.
const url = process.env.AGENT_SANDBOX_URL
const key = process.env.AGENT_SANDBOX_API_KEY
const pool = process.env.AGENT_SANDBOX_POOL ?? "demo"
if (!url || !key) {
  console.error("allocate-test: AGENT_SANDBOX_URL and AGENT_SANDBOX_API_KEY are required")
  process.exit(2)
}
const call = async (method, path, body) => {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { "x-api-key": key, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`)
  return text === "" ? undefined : JSON.parse(text)
}
const sandbox = await call("POST", "/v1/sandboxes", { pool, timeoutSeconds: 120 })
console.log(`allocated ${sandbox.id} (pod ${sandbox.pod}) from pool ${pool}`)
const read = await call("GET", `/v1/sandboxes/${sandbox.id}`)
if (read.id !== sandbox.id) throw new Error(`read back ${JSON.stringify(read)}`)
await call("DELETE", `/v1/sandboxes/${sandbox.id}`)
console.log(`released ${sandbox.id}`)
