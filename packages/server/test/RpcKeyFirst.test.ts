/** The pure parts of the RPC key check before the body: which requests it covers, which keys it sees. */
import { assert, describe, it } from "@effect/vitest"
import * as KeyInForce from "../src/auth/KeyInForce.ts"
import * as RpcKeyFirst from "../src/rpc/RpcKeyFirst.ts"

describe("RpcKeyFirst", () => {
  it("covers POST /rpc only: not the WebSocket upgrade, not other paths", () => {
    assert.isTrue(RpcKeyFirst.isRpcPost("POST", "/rpc"))
    assert.isTrue(RpcKeyFirst.isRpcPost("POST", "/rpc?x=1"))
    assert.isFalse(RpcKeyFirst.isRpcPost("GET", "/rpc"))
    assert.isFalse(RpcKeyFirst.isRpcPost("POST", "/rpcx"))
    assert.isFalse(RpcKeyFirst.isRpcPost("POST", "/v1/sandboxes"))
  })
})

describe("KeyInForce.presentedKeys", () => {
  it("takes X-API-Key and a bearer token, either or both, and nothing empty", () => {
    assert.deepStrictEqual(KeyInForce.presentedKeys({ "x-api-key": "a" }), ["a"])
    assert.deepStrictEqual(KeyInForce.presentedKeys({ authorization: "Bearer  b " }), ["b"])
    assert.deepStrictEqual(KeyInForce.presentedKeys({ "x-api-key": "a", authorization: "bearer b" }), [
      "a",
      "b",
    ])
    assert.deepStrictEqual(KeyInForce.presentedKeys({ "x-api-key": "", authorization: "Basic x" }), [])
    assert.deepStrictEqual(KeyInForce.presentedKeys({}), [])
  })
})
