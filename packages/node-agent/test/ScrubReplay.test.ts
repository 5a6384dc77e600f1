/**
 * The node agent on loopback, against the local control plane (for its Lease), with no container
 * runtime behind it: every grant it accepts names a container it cannot find (409), which is enough
 * to see what it does with a grant sent twice. A grant is accepted once (docs/security.md,
 * "Recycling"); the scrub that succeeds is proven on the real node (RecycleIpc.realnode.test.ts).
 */
import { randomBytes } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { PodScrubGrant } from "@agent-sandbox/envd"
import { FreePorts, TestCluster, TestNamespace } from "@agent-sandbox/testing"
import { assert, layer } from "@effect/vitest"
import { Clock, Effect, Layer } from "effect"
import { NodeAgent, NodeAgentConfig } from "../src/index.ts"

const post = (url: string, grant: string) =>
  Effect.promise(() =>
    fetch(url, { method: "POST", headers: { [PodScrubGrant.headerName]: grant } }).then(async (r) => ({
      status: r.status,
      body: await r.text(),
      retryAfter: r.headers.get("retry-after"),
    })),
  )

layer(TestCluster.layer, { timeout: "120 seconds" })("the node agent's scrub endpoint", (it) => {
  it.scoped(
    "accepts each scrub grant once: a replay is refused (403), and it remembers a bounded number",
    () =>
      Effect.gen(function* () {
        const systemNamespace = yield* TestNamespace.make("scrub-replay")
        const [port] = yield* FreePorts.freePorts(1)
        const key = randomBytes(32)
        const dir = mkdtempSync(join(tmpdir(), "scrub-replay-"))
        yield* Layer.buildWithScope(
          NodeAgent.layer.pipe(
            Layer.provide(
              NodeAgentConfig.layer({
                nodeName: "scrub-replay-node",
                systemNamespace,
                host: "127.0.0.1",
                port: port!,
                advertisedAddress: `http://127.0.0.1:${port}`,
                // No runtime here: every container the agent looks for is not found.
                criSocket: join(dir, "no-cri.sock"),
                helper: join(dir, "no-helper"),
                socketDir: dir,
                enteredIdleSeconds: 600,
                grantKey: key,
                leaseDurationSeconds: 15,
                maxScrubGrants: 2,
              }),
            ),
          ),
          yield* Effect.scope,
        )
        const url = `http://127.0.0.1:${port}${PodScrubGrant.path}`
        const now = yield* Clock.currentTimeMillis
        const grantFor = (pod: string) =>
          PodScrubGrant.sign(
            key,
            new PodScrubGrant.ScrubGrant({
              purpose: "scrub-pod-state",
              namespace: "team",
              pod,
              podUid: `uid-${pod}`,
              container: "sandbox",
              containerId: "c0ffee",
              expiresAt: now + 60_000,
            }),
          )
        const first = grantFor("first")
        const accepted = yield* post(url, first)
        assert.strictEqual(accepted.status, 409, `accepted, then the container looked for: ${accepted.body}`)
        const replayed = yield* post(url, first)
        assert.strictEqual(replayed.status, 403)
        assert.include(replayed.body, "replayed")
        // The same grant with its signature spelled otherwise is the same grant.
        const respelled = yield* post(url, `${first}=`)
        assert.strictEqual(respelled.status, 403, respelled.body)
        assert.strictEqual((yield* post(url, grantFor("second"))).status, 409)
        const full = yield* post(url, grantFor("third"))
        assert.strictEqual(full.status, 429, full.body)
        assert.include(full.body, "AGENT_SANDBOX_NODE_AGENT_MAX_SCRUB_GRANTS")
        assert.isTrue(Number(full.retryAfter) >= 1, `Retry-After: ${full.retryAfter}`)
      }),
  )
})
