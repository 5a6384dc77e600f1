import { describe, expect, it } from "@effect/vitest"
import * as CommandFrame from "../src/CommandFrame.ts"
import { isIdle } from "../src/EnteredProcesses.ts"

const bytes = (text: string) => new Uint8Array(Buffer.from(text))
const text = (value: Uint8Array) => Buffer.from(value).toString()

describe("CommandFrame", () => {
  it("encodes a request as NUL-separated stdin flag, terminal and argv after a 5-byte header", () => {
    const frame = CommandFrame.encodeRequest({ argv: ["/bin/sh", "-c", "echo a b"], stdin: true })
    expect(frame[0]).toBe(CommandFrame.FrameType.request)
    expect(Buffer.from(frame).readUInt32BE(1)).toBe(frame.length - 5)
    expect(text(frame.subarray(5))).toBe(["1", "-", "/bin/sh", "-c", "echo a b"].join("\0"))
    const tty = CommandFrame.encodeRequest({
      argv: ["bash"],
      stdin: false,
      terminal: { cols: 120, rows: 40 },
    })
    expect(text(tty.subarray(5))).toBe(["0", "120x40", "bash"].join("\0"))
    expect(text(CommandFrame.encodeResize({ cols: 90, rows: 30 }).subarray(5))).toBe("90 30")
  })

  it("splits stdin into frames no larger than the helper reads at once", () => {
    const frames = CommandFrame.encodeStdin(new Uint8Array(CommandFrame.stdinChunk * 2 + 3))
    expect(frames.map((f) => f.length - 5)).toEqual([CommandFrame.stdinChunk, CommandFrame.stdinChunk, 3])
    expect(CommandFrame.encodeStdin(new Uint8Array(0))).toEqual([])
  })

  it("decodes frames split anywhere across chunks, in order", () => {
    const wire = Buffer.concat([
      CommandFrame.encode(CommandFrame.FrameType.stdout, bytes("hello ")),
      CommandFrame.encode(CommandFrame.FrameType.stderr, bytes("oops")),
      CommandFrame.encode(CommandFrame.FrameType.stdout, bytes("world")),
      CommandFrame.encode(CommandFrame.FrameType.exit, new Uint8Array([0, 3])),
    ])
    for (const size of [1, 2, 5, 7, wire.length]) {
      let state = CommandFrame.initial
      const frames: Array<CommandFrame.Inbound> = []
      for (let at = 0; at < wire.length; at += size) {
        const [next, decoded] = CommandFrame.decode(state, wire.subarray(at, at + size))
        state = next
        frames.push(...decoded)
      }
      expect(state.length).toBe(0)
      expect(
        frames.map((f) =>
          f._tag === "Stdout" || f._tag === "Stderr" ? `${f._tag}:${text(f.bytes)}` : JSON.stringify(f),
        ),
      ).toEqual([
        "Stdout:hello ",
        "Stderr:oops",
        "Stdout:world",
        JSON.stringify({ _tag: "Exit", exit: { _tag: "Exited", exitCode: 3 } }),
      ])
    }
  })

  it("a program killed by a signal exits 128 + the signal; malformed frames are invalid", () => {
    expect(CommandFrame.exitOf(new Uint8Array([1, 9]))).toEqual({ _tag: "Exited", exitCode: 137 })
    expect(CommandFrame.exitOf(new Uint8Array([0, 0]))).toEqual({ _tag: "Exited", exitCode: 0 })
    expect(CommandFrame.exitOf(new Uint8Array([2, 0]))).toBeUndefined()
    const [, unknown] = CommandFrame.decode(CommandFrame.initial, CommandFrame.encode(99))
    expect(unknown[0]?._tag).toBe("Invalid")
    const huge = new Uint8Array(5)
    huge[0] = CommandFrame.FrameType.stdout
    new DataView(huge.buffer).setUint32(1, CommandFrame.maxPayload + 1)
    const [, tooLarge] = CommandFrame.decode(CommandFrame.initial, huge)
    expect(tooLarge[0]?._tag).toBe("Invalid")
  })
})

describe("EnteredProcesses.isIdle", () => {
  it("only without a command in flight, after the idle time since the last one", () => {
    expect(isIdle({ active: 0, lastUsed: 1000 }, 61_000, 60_000)).toBe(true)
    expect(isIdle({ active: 0, lastUsed: 1000 }, 60_999, 60_000)).toBe(false)
    expect(isIdle({ active: 1, lastUsed: 0 }, 1_000_000, 60_000)).toBe(false)
  })
})
