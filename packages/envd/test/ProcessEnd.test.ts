import { describe, expect, it } from "@effect/vitest"
import { fromExitCode, fromFailure } from "../src/ProcessEnd.ts"

describe("ProcessEnd", () => {
  it("reports exits like Go's ProcessState", () => {
    expect(fromExitCode(0, undefined)).toEqual({ exitCode: 0, exited: true, status: "exit status 0" })
    expect(fromExitCode(3, undefined)).toEqual({
      exitCode: 3,
      exited: true,
      status: "exit status 3",
      error: "exit status 3",
    })
  })

  it("counts 128+N as death by signal only when we sent that signal", () => {
    expect(fromExitCode(137, undefined).exited).toBe(true)
    expect(fromExitCode(137, "KILL")).toEqual({
      exitCode: -1,
      exited: false,
      status: "signal: killed",
      error: "signal: killed",
    })
    expect(fromExitCode(143, "TERM").status).toBe("signal: terminated")
    expect(fromExitCode(-1, "KILL").status).toBe("signal: killed")
    expect(fromExitCode(0, "TERM").status).toBe("exit status 0")
  })

  it("reads a runtime's failure message", () => {
    expect(fromFailure("cmd wait: sh -c x: signal: killed", undefined).status).toBe("signal: killed")
    expect(fromFailure("something broke", "TERM").status).toBe("signal: terminated")
    expect(fromFailure("something broke", undefined)).toEqual({
      exitCode: -1,
      exited: false,
      status: "unknown",
      error: "something broke",
    })
  })
})
