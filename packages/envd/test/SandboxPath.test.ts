import { describe, expect, it } from "@effect/vitest"
import { needsHome, resolvePath } from "../src/SandboxPath.ts"

describe("resolvePath", () => {
  it("follows envd's rules for ~, relative and empty paths", () => {
    expect(resolvePath("/home/user", "")).toBe("/home/user")
    expect(resolvePath("/home/user", "~")).toBe("/home/user")
    expect(resolvePath("/home/user", "~/a/b")).toBe("/home/user/a/b")
    expect(resolvePath("/home/user", "a/../b/")).toBe("/home/user/b")
    expect(resolvePath("/home/user", "/etc//x/./y/")).toBe("/etc/x/y")
    expect(resolvePath("/", "/")).toBe("/")
    expect(resolvePath("/", "../..")).toBe("/")
  })

  it("needs the home directory only for paths that are not absolute", () => {
    expect(needsHome("/a")).toBe(false)
    expect(needsHome("a")).toBe(true)
    expect(needsHome("~/a")).toBe(true)
    expect(needsHome("")).toBe(true)
  })
})
