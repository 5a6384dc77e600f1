import { TerminalToken, TerminalTokenLedger } from "@agent-sandbox/domain"
import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import * as ApiPassage from "../src/ApiPassage.ts"
import * as TerminalAdmission from "../src/TerminalAdmission.ts"
import * as TerminalFrames from "../src/TerminalFrames.ts"
import * as TerminalSession from "../src/TerminalSession.ts"
import { parseOrigins } from "../src/WsproxyConfig.ts"

const key = new Uint8Array(32).fill(3)
const token = (overrides: Partial<TerminalToken.TerminalClaims> = {}) =>
  TerminalToken.sign(
    key,
    new TerminalToken.TerminalClaims({
      id: "t1",
      sandboxId: "sbx",
      tenant: "team-a",
      namespace: "default",
      pod: "p",
      container: "sandbox",
      expiresAt: 1_000,
      ...overrides,
    }),
  )
const input = (over: Partial<TerminalAdmission.AdmissionInput> = {}): TerminalAdmission.AdmissionInput => ({
  key,
  sandboxId: "sbx",
  token: token(),
  now: 0,
  ledger: TerminalTokenLedger.empty,
  openSessions: 0,
  maxSessions: 2,
  ...over,
})
const refusal = (decision: ReturnType<typeof TerminalAdmission.admit>) =>
  Either.isLeft(decision) ? decision.left.code : undefined

describe("TerminalAdmission", () => {
  it("admits a fresh token once", () => {
    const first = TerminalAdmission.admit(input())
    assert.isTrue(Either.isRight(first))
    if (Either.isLeft(first)) return
    assert.strictEqual(first.right.claims.sandboxId, "sbx")
    const again = TerminalAdmission.admit(input({ ledger: first.right.ledger }))
    assert.deepStrictEqual(again, Either.left({ code: 4401, reason: "the terminal token was already used" }))
  })

  it("refuses no token, another sandbox's, an expired or forged one", () => {
    assert.strictEqual(refusal(TerminalAdmission.admit(input({ token: undefined }))), 4401)
    assert.strictEqual(refusal(TerminalAdmission.admit(input({ sandboxId: "other" }))), 4401)
    assert.strictEqual(refusal(TerminalAdmission.admit(input({ now: 1_000 }))), 4401)
    assert.strictEqual(refusal(TerminalAdmission.admit(input({ key: new Uint8Array(32) }))), 4401)
  })

  it("refuses past the sandbox's limit without spending the token", () => {
    const full = TerminalAdmission.admit(input({ openSessions: 2 }))
    assert.strictEqual(refusal(full), 4429)
    assert.isTrue(Either.isRight(TerminalAdmission.admit(input({ openSessions: 1 }))))
  })

  it("checks origins against the list, else against the Host", () => {
    assert.isTrue(TerminalAdmission.originAllowed(undefined, "a:9003", []))
    assert.isTrue(TerminalAdmission.originAllowed("http://a:9003", "a:9003", []))
    assert.isFalse(TerminalAdmission.originAllowed("http://evil.test", "a:9003", []))
    assert.isFalse(TerminalAdmission.originAllowed("null", "a:9003", []))
    assert.isTrue(TerminalAdmission.originAllowed("https://ops.test", "a:9003", ["https://ops.test"]))
    assert.isFalse(TerminalAdmission.originAllowed("http://a:9003", "a:9003", ["https://ops.test"]))
    assert.deepStrictEqual(parseOrigins(" https://a.test, ,http://b.test:1 "), [
      "https://a.test",
      "http://b.test:1",
    ])
  })
})

describe("TerminalFrames", () => {
  it("binary is input, a resize is control, other text is invalid", () => {
    assert.deepStrictEqual(TerminalFrames.parse(Uint8Array.of(104, 105), true), {
      _tag: "Input",
      bytes: Uint8Array.of(104, 105),
    })
    const resize = new TextEncoder().encode(JSON.stringify({ type: "resize", cols: 100, rows: 30 }))
    assert.deepStrictEqual(TerminalFrames.parse(resize, false), { _tag: "Resize", cols: 100, rows: 30 })
    const huge = new TextEncoder().encode(JSON.stringify({ type: "resize", cols: 0, rows: 30 }))
    assert.strictEqual(TerminalFrames.parse(huge, false)._tag, "Invalid")
    assert.strictEqual(TerminalFrames.parse(new TextEncoder().encode("ls"), false)._tag, "Invalid")
  })

  it("starts at the size in the URL, else 80x24", () => {
    assert.deepStrictEqual(TerminalFrames.initialSize(new URLSearchParams("cols=120&rows=40")), {
      cols: 120,
      rows: 40,
    })
    assert.deepStrictEqual(TerminalFrames.initialSize(new URLSearchParams("cols=0&rows=x")), {
      cols: 80,
      rows: 24,
    })
  })

  it("says why a terminal closed in at most 123 bytes", () => {
    assert.deepStrictEqual(
      TerminalSession.closingOf({ _tag: "Exited", exit: { _tag: "Exited", exitCode: 3 } }),
      { code: 1000, reason: "exited 3" },
    )
    assert.deepStrictEqual(TerminalSession.closingOf({ _tag: "Idle" }), {
      code: 4408,
      reason: "idle timeout",
    })
    assert.strictEqual(TerminalSession.closingOf({ _tag: "BrowserGone" }), undefined)
    const long = TerminalSession.closingOf({ _tag: "Failed", message: "é".repeat(200) })
    assert.isAtMost(Buffer.byteLength(long?.reason ?? ""), 123)
  })
})

describe("ApiPassage", () => {
  it("passes the page's two calls and nothing else", () => {
    assert.deepStrictEqual(ApiPassage.route("GET", "/api/sandboxes?limit=5"), {
      method: "GET",
      path: "/v1/sandboxes?limit=5",
    })
    assert.deepStrictEqual(ApiPassage.route("POST", "/api/sandboxes/abc/terminal-token"), {
      method: "POST",
      path: "/v1/sandboxes/abc/terminal-token",
    })
    assert.strictEqual(ApiPassage.route("DELETE", "/api/sandboxes/abc"), undefined)
    assert.strictEqual(ApiPassage.route("POST", "/api/keys"), undefined)
    assert.strictEqual(ApiPassage.route("GET", "/api/sandboxes/../keys"), undefined)
  })
})
