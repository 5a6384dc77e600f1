import { describe, expect, it } from "@effect/vitest"
import { awaitingPid, feed, heldBack, type LaunchState } from "../src/LaunchOutput.ts"

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (data: Uint8Array) => new TextDecoder().decode(data)

describe("LaunchOutput", () => {
  it("takes the pid line even when it is split across chunks", () => {
    const first = feed(awaitingPid, bytes("12"))
    expect(first.pid).toBeUndefined()
    expect(first.output.length).toBe(0)
    const second = feed(first.state, bytes("34\nhello"))
    expect(second.pid).toBe(1234)
    expect(text(second.output)).toBe("hello")
    const third = feed(second.state, bytes(" world"))
    expect(text(third.output)).toBe(" world")
  })

  it("accepts a terminal's \\r\\n", () => {
    const step = feed(awaitingPid, bytes("77\r\n$ "))
    expect(step.pid).toBe(77)
    expect(text(step.output)).toBe("$ ")
  })

  it("holds back what a failing launcher printed instead of a pid", () => {
    let state: LaunchState = feed(awaitingPid, bytes("sh: 1: cd: can't cd\n")).state
    expect(state._tag).toBe("NoPid")
    state = feed(state, bytes("more")).state
    expect(text(heldBack(state))).toBe("sh: 1: cd: can't cd\nmore")
    expect(feed(awaitingPid, bytes("x".repeat(40))).state._tag).toBe("NoPid")
  })
})
