import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import { sign, TerminalClaims, verify } from "../src/terminal/TerminalToken.ts"
import * as TerminalTokenLedger from "../src/terminal/TerminalTokenLedger.ts"

const key = new Uint8Array(32).fill(7)
const claims = new TerminalClaims({
  id: "abc",
  sandboxId: "sbx-1",
  tenant: "team-a",
  namespace: "default",
  pod: "demo-x1",
  container: "sandbox",
  expiresAt: 10_000,
})

describe("TerminalToken", () => {
  it("verifies what it signed until it expires", () => {
    const token = sign(key, claims)
    const verified = verify(key, token, 9_999)
    assert.isTrue(Either.isRight(verified))
    if (Either.isRight(verified)) assert.deepStrictEqual(verified.right, claims)
    assert.deepStrictEqual(verify(key, token, 10_000), Either.left({ _tag: "Expired", expiredAt: 10_000 }))
  })

  it("refuses another key, altered claims and garbage", () => {
    const token = sign(key, claims)
    assert.deepStrictEqual(
      verify(new Uint8Array(32).fill(8), token, 0),
      Either.left({ _tag: "BadSignature" }),
    )
    const [payload, signature] = token.split(".") as [string, string]
    const forged = Buffer.from(
      Buffer.from(payload, "base64url").toString().replace("team-a", "team-b"),
    ).toString("base64url")
    assert.deepStrictEqual(verify(key, `${forged}.${signature}`, 0), Either.left({ _tag: "BadSignature" }))
    assert.deepStrictEqual(verify(key, "no-dot", 0), Either.left({ _tag: "Malformed" }))
    assert.deepStrictEqual(verify(key, ".", 0), Either.left({ _tag: "Malformed" }))
    assert.deepStrictEqual(verify(key, "a.b.c", 0), Either.left({ _tag: "Malformed" }))
  })

  it("a signed payload that is not claims is malformed", () => {
    const token = sign(key, claims)
    const signature = token.split(".")[1] as string
    assert.deepStrictEqual(verify(key, `e30.${signature}`, 0), Either.left({ _tag: "BadSignature" }))
  })
})

describe("TerminalTokenLedger", () => {
  it("spends an id once and forgets it after its token expired", () => {
    const first = TerminalTokenLedger.spend(TerminalTokenLedger.empty, "a", 100, 0)
    assert.strictEqual(first._tag, "Spent")
    if (first._tag !== "Spent") return
    assert.deepStrictEqual(TerminalTokenLedger.spend(first.ledger, "a", 100, 50), { _tag: "AlreadySpent" })
    const later = TerminalTokenLedger.spend(first.ledger, "b", 300, 200)
    assert.strictEqual(later._tag, "Spent")
    if (later._tag === "Spent") assert.deepStrictEqual([...later.ledger.spent.keys()], ["b"])
  })
})
