/** The one pager of the REST and E2B lists, and the cursor/nextToken codecs over it. */
import { describe, expect, it } from "@effect/vitest"
import { Either, Order, Schema } from "effect"
import * as Pager from "../src/listing/Pager.ts"
import * as SandboxView from "../src/rest/SandboxView.ts"

describe("Pager", () => {
  const items = ["d", "b", "a", "c", "e"].map((id) => ({ id }))
  const all = (limit: number, order: Order.Order<string>) => {
    const pages: Array<Array<string>> = []
    let after: string | undefined
    do {
      const page = Pager.page(items, { key: (item) => item.id, order, limit, after })
      expect(page.total).toBe(items.length)
      pages.push(page.items.map((item) => item.id))
      after = page.next
    } while (after !== undefined)
    return pages
  }
  it("serves every item once, in order, a page at a time", () => {
    expect(all(2, Order.string)).toEqual([["a", "b"], ["c", "d"], ["e"]])
    expect(all(2, Order.reverse(Order.string))).toEqual([["e", "d"], ["c", "b"], ["a"]])
    expect(all(5, Order.string)).toEqual([["a", "b", "c", "d", "e"]])
  })
  it("resumes after a position, even when that item is gone meanwhile", () => {
    const page = Pager.page(
      items.filter((item) => item.id !== "b"),
      { key: (item) => item.id, order: Order.string, limit: 2, after: "b" },
    )
    expect(page.items.map((item) => item.id)).toEqual(["c", "d"])
    expect(page.next).toBe("d")
  })
  it("encodes positions as opaque tokens and refuses tokens it did not issue", () => {
    const token = Pager.token(Schema.Tuple(Schema.Number, Schema.String))
    const encoded = Schema.encodeSync(token)([12, "abc"])
    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(Schema.decodeSync(token)(encoded)).toEqual([12, "abc"])
    for (const bad of ["xyz", "", Schema.encodeSync(Pager.token(Schema.String))("abc")]) {
      expect(Either.isLeft(Schema.decodeUnknownEither(token)(bad)), bad).toBe(true)
    }
  })
  it("pages REST's sandboxes by id", () => {
    const sandboxes = ["s3", "s1", "s2"].map((sandboxId) => ({ sandboxId }))
    const first = SandboxView.page(sandboxes, 2, undefined)
    expect(first.items.map((s) => s.sandboxId)).toEqual(["s1", "s2"])
    const cursor = Schema.encodeSync(SandboxView.Cursor)(first.next ?? "")
    const second = SandboxView.page(sandboxes, 2, Schema.decodeSync(SandboxView.Cursor)(cursor))
    expect(second.items.map((s) => s.sandboxId)).toEqual(["s3"])
    expect(second.next).toBeUndefined()
  })
})
