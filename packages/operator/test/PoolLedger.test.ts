import type { SandboxTemplateSpec } from "@agent-sandbox/domain"
import { assert, describe, it } from "@effect/vitest"
import type { Pod } from "kubernetes-types/core/v1.js"
import * as PoolLedger from "../src/cluster/PoolLedger.ts"
import * as PodFactory from "../src/sandbox/PodFactory.ts"
import * as SandboxPod from "../src/sandbox/SandboxPod.ts"

const template: SandboxTemplateSpec = {
  podTemplate: { spec: { containers: [{ name: "sandbox", image: "busybox:1.36" }] } },
  runtimes: [],
}
const revision = PodFactory.target(template, false).revision
const poolKey = SandboxPod.poolKey("ns", "p")
const now = Date.parse("2026-01-01T00:00:00Z")

/** A Pod of pool `p` (uid `u`): idle and Ready unless told otherwise. */
const podOf = (
  name: string,
  options: {
    readonly state?: "idle" | "allocated"
    readonly ready?: boolean
    readonly expiresAt?: number
    readonly revision?: string
    readonly owner?: string
    readonly deleting?: boolean
  } = {},
): readonly [string, Pod] => {
  const built = PodFactory.build({
    pool: { name: "p", namespace: "ns", uid: options.owner ?? "u" },
    template,
    useIdleImage: false,
    name,
  })
  const allocated = options.state === "allocated"
  const pod: Pod = {
    ...built,
    metadata: {
      ...built.metadata,
      resourceVersion: "1",
      ...(options.deleting === true ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
      labels: {
        ...built.metadata?.labels,
        [SandboxPod.Label.state]: options.state ?? "idle",
        ...(options.revision === undefined ? {} : { [SandboxPod.Label.revision]: options.revision }),
        ...(allocated ? { [SandboxPod.Label.sandboxId]: `sbx-${name}` } : {}),
      },
      annotations: {
        ...built.metadata?.annotations,
        ...(allocated ? { [SandboxPod.Annotation.allocatedAt]: new Date(now - 1_000).toISOString() } : {}),
        ...(options.expiresAt === undefined
          ? {}
          : { [SandboxPod.Annotation.expiresAt]: new Date(options.expiresAt).toISOString() }),
      },
    },
    status: {
      phase: "Running",
      conditions: [{ type: "Ready", status: options.ready === false ? "False" : "True" }],
      containerStatuses: [
        {
          name: "sandbox",
          image: "busybox:1.36",
          imageID: "",
          containerID: "containerd://c",
          ready: options.ready !== false,
          restartCount: 0,
          state: { running: {} },
        },
      ],
    },
  }
  return [`ns/${name}`, pod]
}

describe("PoolLedger", () => {
  it("counts plain Pods and names the rest, and a claim only moves a count", () => {
    const ledger = PoolLedger.make()
    for (const name of ["a", "b", "c"]) PoolLedger.upsert(ledger, ...podOf(name))
    PoolLedger.upsert(ledger, ...podOf("s", { ready: false }))
    let pool = PoolLedger.poolOf(ledger, poolKey, "u")
    assert.strictEqual(PoolLedger.idleOf(pool), 4)
    let reading = PoolLedger.read(pool, revision, now)
    assert.deepStrictEqual([reading.plainIdle, reading.plainAllocated, reading.named], [3, 0, ["s"]])

    PoolLedger.upsert(ledger, ...podOf("a", { state: "allocated", expiresAt: now + 60_000 }))
    pool = PoolLedger.poolOf(ledger, poolKey, "u")
    reading = PoolLedger.read(pool, revision, now)
    assert.deepStrictEqual([reading.plainIdle, reading.plainAllocated, reading.named], [2, 1, ["s"]])
    assert.strictEqual(reading.nextExpiry, now + 60_000)
    assert.strictEqual(PoolLedger.idleOf(pool), 3)
    assert.deepStrictEqual([...reading.plainIdleNames()].sort(), ["b", "c"])
    assert.strictEqual(pool?.lastAllocatedAt, now - 1_000)
  })

  it("names an allocated Pod once its expiry is due, and Pods at another revision", () => {
    const ledger = PoolLedger.make()
    PoolLedger.upsert(ledger, ...podOf("due", { state: "allocated", expiresAt: now - 1 }))
    PoolLedger.upsert(ledger, ...podOf("later", { state: "allocated", expiresAt: now + 5_000 }))
    PoolLedger.upsert(ledger, ...podOf("old", { revision: "r0" }))
    const reading = PoolLedger.read(PoolLedger.poolOf(ledger, poolKey, "u"), revision, now)
    assert.deepStrictEqual([...reading.named].sort(), ["due", "old"])
    assert.deepStrictEqual(
      [reading.plainIdle, reading.plainAllocated, reading.nextExpiry],
      [0, 1, now + 5_000],
    )
  })

  it("files Pods by their owner's uid, forgets deleted ones, and counts deleting ones as not warm", () => {
    const ledger = PoolLedger.make()
    PoolLedger.upsert(ledger, ...podOf("a"))
    PoolLedger.upsert(ledger, ...podOf("x", { owner: "other" }))
    PoolLedger.upsert(ledger, ...podOf("d", { deleting: true }))
    const pool = PoolLedger.poolOf(ledger, poolKey, "u")
    assert.strictEqual(PoolLedger.idleOf(pool), 1)
    assert.deepStrictEqual(PoolLedger.read(pool, revision, now).named, ["d"])
    assert.strictEqual(PoolLedger.idleOf(PoolLedger.poolOf(ledger, poolKey, "other")), 1)
    PoolLedger.remove(ledger, "ns/a")
    PoolLedger.remove(ledger, "ns/d")
    const after = PoolLedger.read(PoolLedger.poolOf(ledger, poolKey, "u"), revision, now)
    assert.deepStrictEqual([after.plainIdle, after.named.length, PoolLedger.idleOf(pool)], [0, 0, 0])
    assert.strictEqual(PoolLedger.poolOf(ledger, poolKey, ""), undefined)
  })

  it("leaves out of the warm count a Pod released before the watch brought its claim", () => {
    const ledger = PoolLedger.make()
    PoolLedger.upsert(ledger, ...podOf("a"))
    PoolLedger.upsert(ledger, ...podOf("b"))
    // "a" was claimed, but the watch still shows it idle: released now, it is not a warm Pod.
    assert.strictEqual(PoolLedger.idleOf(PoolLedger.poolOf(ledger, poolKey, "u")), 2)
    assert.strictEqual(PoolLedger.idleBesides(ledger, poolKey, "u", "ns/a"), 1)
    // Once the claim is seen, nothing is left out twice; another pool's Pod is never left out.
    PoolLedger.upsert(ledger, ...podOf("a", { state: "allocated" }))
    assert.strictEqual(PoolLedger.idleBesides(ledger, poolKey, "u", "ns/a"), 1)
    PoolLedger.upsert(ledger, ...podOf("x", { owner: "other" }))
    assert.strictEqual(PoolLedger.idleBesides(ledger, poolKey, "u", "ns/x"), 1)
  })
})
