import { Code } from "@connectrpc/connect"
import { describe, expect, it } from "@effect/vitest"
import { envdError, fromResolveError, httpStatus, toConnectError } from "../src/EnvdError.ts"
import { SandboxResolveError } from "../src/SandboxTarget.ts"
import { ScriptExit, scriptFailure } from "../src/ShellScript.ts"

describe("EnvdError", () => {
  it("maps to the Connect codes and HTTP statuses the SDKs branch on", () => {
    expect(toConnectError(envdError("not_found", "x")).code).toBe(Code.NotFound)
    expect(toConnectError(envdError("already_exists", "x")).code).toBe(Code.AlreadyExists)
    expect(httpStatus("not_found")).toBe(404)
    expect(httpStatus("invalid_argument")).toBe(400)
    expect(httpStatus("resource_exhausted")).toBe(507)
    expect(httpStatus("unavailable")).toBe(502)
  })

  it("reads an unknown sandbox as unavailable, which the SDKs call not running", () => {
    const error = fromResolveError(
      new SandboxResolveError({ reason: "NotFound", message: "The sandbox abc was not found" }),
    )
    expect(error.code).toBe("unavailable")
    expect(error.message).toContain("was not found")
    expect(
      fromResolveError(new SandboxResolveError({ reason: "Unauthenticated", message: "bad token" })).code,
    ).toBe("unauthenticated")
  })

  it("reads our scripts' exit codes and stderr", () => {
    expect(scriptFailure(ScriptExit.notFound, "file not found: /x\n", "stat").code).toBe("not_found")
    expect(scriptFailure(ScriptExit.alreadyExists, "", "mkdir").code).toBe("already_exists")
    expect(scriptFailure(ScriptExit.invalidArgument, "", "read").code).toBe("invalid_argument")
    expect(scriptFailure(1, "head: write error: No space left on device", "write").code).toBe(
      "resource_exhausted",
    )
    expect(scriptFailure(1, "mv: cannot move", "move")).toMatchObject({
      code: "internal",
      message: "move: mv: cannot move",
    })
  })
})
