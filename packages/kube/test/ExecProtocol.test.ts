import { assert, describe, it } from "@effect/vitest"
import * as Protocol from "../src/ExecProtocol.ts"

const status = (value: unknown) => JSON.stringify(value)

describe("ExecProtocol", () => {
  it("builds the exec path with one command parameter per argument", () => {
    const path = Protocol.execPath({
      namespace: "ns",
      pod: "p-1",
      container: "main",
      command: ["sh", "-c", "echo a && echo b"],
      stdin: true,
      tty: false,
    })
    const url = new URL(path, "https://example.invalid")
    assert.strictEqual(url.pathname, "/api/v1/namespaces/ns/pods/p-1/exec")
    assert.deepStrictEqual(url.searchParams.getAll("command"), ["sh", "-c", "echo a && echo b"])
    assert.strictEqual(url.searchParams.get("container"), "main")
    assert.strictEqual(url.searchParams.get("stdin"), "true")
    assert.strictEqual(url.searchParams.get("stderr"), "true")
    assert.strictEqual(url.searchParams.get("tty"), "false")
  })

  it("asks for no separate stderr under a tty", () => {
    const url = new URL(
      Protocol.execPath({ namespace: "ns", pod: "p", command: ["sh"], stdin: false, tty: true }),
      "https://example.invalid",
    )
    assert.strictEqual(url.searchParams.get("stderr"), "false")
    assert.strictEqual(url.searchParams.get("tty"), "true")
    assert.isNull(url.searchParams.get("container"))
  })

  it("prefixes each frame with its channel and splits large payloads", () => {
    const data = new Uint8Array(70_000).fill(7)
    const frames = Protocol.encodeFrames(Protocol.Channel.stdin, data)
    assert.deepStrictEqual(
      frames.map((f) => f.length),
      [32 * 1024 + 1, 32 * 1024 + 1, 70_000 - 64 * 1024 + 1],
    )
    assert.isTrue(frames.every((f) => f[0] === 0))
    assert.deepStrictEqual(Array.from(Protocol.closeFrame(Protocol.Channel.stdin)), [255, 0])
    const resize = Protocol.resizeFrame({ cols: 120, rows: 40 })
    assert.strictEqual(resize[0], 4)
    assert.deepStrictEqual(JSON.parse(new TextDecoder().decode(resize.subarray(1))), {
      Width: 120,
      Height: 40,
    })
  })

  it("reads the exit code from the status", () => {
    assert.deepStrictEqual(Protocol.parseStatus(status({ status: "Success", metadata: {} })), {
      _tag: "Exited",
      exitCode: 0,
    })
    const nonZero = {
      status: "Failure",
      message: "command terminated with non-zero exit code: exit status 3",
      reason: "NonZeroExitCode",
      details: { causes: [{ reason: "ExitCode", message: "3" }] },
    }
    assert.deepStrictEqual(Protocol.parseStatus(new TextEncoder().encode(status(nonZero))), {
      _tag: "Exited",
      exitCode: 3,
    })
  })

  it("reads the exit code from a runtime that reports it as an internal error (KWOK)", () => {
    const kwok = {
      status: "Failure",
      message:
        "Internal error occurred: error executing command in container: cmd wait: sh -c echo out; exit 3: exit status 3",
      reason: "InternalError",
      code: 500,
    }
    assert.deepStrictEqual(Protocol.parseStatus(status(kwok)), { _tag: "Exited", exitCode: 3 })
    const withStderr = { ...kwok, message: "cmd wait: false : exit status 1\nsome stderr" }
    assert.deepStrictEqual(Protocol.parseStatus(status(withStderr)), { _tag: "Exited", exitCode: 1 })
    const signalled = { ...kwok, message: "cmd wait: sleep 9: signal: killed" }
    assert.strictEqual(Protocol.parseStatus(status(signalled))._tag, "Failed")
  })

  it("reports a command that could not run as a failure without exit code", () => {
    const outcome = Protocol.parseStatus(
      status({ status: "Failure", message: 'exec: "nope": executable file not found in $PATH' }),
    )
    assert.strictEqual(outcome._tag, "Failed")
    assert.include(outcome._tag === "Failed" ? outcome.message : "", "executable file not found")
    assert.strictEqual(Protocol.parseStatus("not json")._tag, "Failed")
  })

  it("knows which subprotocol can half-close stdin", () => {
    assert.isTrue(Protocol.supportsStdinClose("v5.channel.k8s.io"))
    assert.isFalse(Protocol.supportsStdinClose("v4.channel.k8s.io"))
  })
})
