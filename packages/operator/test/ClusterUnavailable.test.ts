import { KubeError } from "@agent-sandbox/kube"
import { assert, describe, it } from "@effect/vitest"
import * as Allocate from "../src/allocation/Allocate.ts"

describe("Allocate.clusterUnavailable", () => {
  it("tells the tenant the failure's class, never the API server's own message", () => {
    const raw = 'etcdserver: request timed out while writing pods "sandbox-x" in namespace "team-b"'
    const error = Allocate.clusterUnavailable(
      new KubeError.KubeError({
        reason: "Timeout",
        status: 504,
        message: raw,
        operation: "patch v1/pods team-b/sandbox-x",
      }),
    )
    assert.strictEqual(error._tag, "ClusterUnavailable")
    assert.strictEqual(error.message, "the Kubernetes API failed (Timeout); retry later")
    assert.notInclude(error.message, "team-b")
  })
})
