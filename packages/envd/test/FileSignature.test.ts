import { describe, expect, it } from "@effect/vitest"
import { Sandbox } from "e2b"
import { checkFileAccess } from "../src/FileSignature.ts"

// URLs signed by the real SDK (computed locally; no server involved).
const sandbox = new (Sandbox as unknown as new (options: object) => Sandbox)({
  sandboxId: "sbx",
  envdVersion: "0.5.7",
  envdAccessToken: "secret-token",
  sandboxUrl: "http://127.0.0.1:1",
})

const check = (method: string, url: string, nowSeconds = Date.now() / 1000, accessTokenHeader?: string) =>
  checkFileAccess({ method, url: new URL(url), accessTokenHeader, accessToken: "secret-token", nowSeconds })

describe("FileSignature", () => {
  it("accepts the SDK's signed download and upload URLs for their own operation only", async () => {
    const download = await sandbox.downloadUrl("/home/user/a b.txt", { user: "user" })
    const upload = await sandbox.uploadUrl("/home/user/up.txt")
    expect(check("GET", download)).toEqual({ _tag: "Allowed" })
    expect(check("POST", upload)).toEqual({ _tag: "Allowed" })
    expect(check("POST", download)._tag).toBe("Denied")
    expect(
      check("GET", download.replace("a+b.txt", "other.txt").replace("a%20b.txt", "other.txt"))._tag,
    ).toBe("Denied")
  })

  it("honours the signature's expiration", async () => {
    const url = await sandbox.downloadUrl("/x", { useSignatureExpiration: 60 })
    expect(check("GET", url)).toEqual({ _tag: "Allowed" })
    expect(check("GET", url, Date.now() / 1000 + 120)).toEqual({
      _tag: "Denied",
      reason: "signature is already expired",
    })
  })

  it("prefers the access token header when present", () => {
    expect(check("GET", "http://h/files?path=/x", 0, "secret-token")).toEqual({ _tag: "Allowed" })
    expect(check("GET", "http://h/files?path=/x", 0, "wrong")._tag).toBe("Denied")
    expect(check("GET", "http://h/files?path=/x")._tag).toBe("Denied")
  })
})
