import { describe, expect, it } from "vitest"
import * as JsonBody from "../src/http/JsonBody.ts"

describe("JsonBody decisions", () => {
  it("refuses multipart bodies (their parser throws without a boundary) and lets the rest through", () => {
    expect(JsonBody.refusedContentType("multipart/form-data")).toBe("multipart/form-data")
    expect(JsonBody.refusedContentType("Multipart/Mixed; boundary=x")).toBe("multipart/mixed")
    expect(JsonBody.refusedContentType("application/json")).toBeUndefined()
    expect(JsonBody.refusedContentType("application/ndjson")).toBeUndefined()
    expect(JsonBody.refusedContentType(undefined)).toBeUndefined()
  })

  it("parses up front only a JSON body that is there", () => {
    const json = { "content-type": "application/json; charset=utf-8", "content-length": "2" }
    expect(JsonBody.carriesJson("POST", json)).toBe(true)
    expect(
      JsonBody.carriesJson("PUT", { "content-type": "application/json", "transfer-encoding": "chunked" }),
    ).toBe(true)
    expect(JsonBody.carriesJson("GET", json)).toBe(false)
    expect(JsonBody.carriesJson("POST", { "content-type": "application/json", "content-length": "0" })).toBe(
      false,
    )
    expect(JsonBody.carriesJson("POST", { "content-length": "2" })).toBe(false)
    expect(
      JsonBody.carriesJson("POST", { "content-type": "application/ndjson", "content-length": "2" }),
    ).toBe(false)
  })
})
