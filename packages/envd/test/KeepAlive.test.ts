import { createContextValues, createHandlerContext } from "@connectrpc/connect"
import { Duration, Effect, Runtime, Stream } from "effect"
import { afterEach, describe, expect, it, vi } from "vitest"
import * as ConnectBridge from "../src/ConnectBridge.ts"
import { Process } from "../src/gen/process/process_pb.ts"
import { fromHeader, intervalFromHeader } from "../src/KeepAlive.ts"

const context = () =>
  createHandlerContext({
    service: Process,
    method: Process.method.start,
    protocolName: "connect",
    requestMethod: "POST",
    url: "http://envd/process.Process/Start",
    contextValues: createContextValues(),
  })

describe("KeepAlive", () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it("reads the interval header in seconds, defaulting to envd's 90", () => {
    expect(Duration.toSeconds(intervalFromHeader("50"))).toBe(50)
    expect(Duration.toSeconds(intervalFromHeader(null))).toBe(90)
    expect(Duration.toSeconds(intervalFromHeader("-3"))).toBe(90)
    expect(Duration.toSeconds(intervalFromHeader("abc"))).toBe(90)
    expect(fromHeader("ka", "7")).toEqual({ item: "ka", interval: Duration.seconds(7) })
  })

  it("the bridge interleaves keepalives while the stream is quiet and ends with it", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] })
    let release: (() => void) | undefined
    const events = Stream.make("a").pipe(
      Stream.concat(
        Stream.fromEffect(
          Effect.async<string>((resume) => {
            release = () => resume(Effect.succeed("b"))
          }),
        ),
      ),
    )
    const bridge = ConnectBridge.make(Runtime.defaultRuntime)
    const iterator = bridge
      .stream(context(), events, { item: "ka", interval: Duration.seconds(10) })
      [Symbol.asyncIterator]()
    expect(await iterator.next()).toEqual({ done: false, value: "a" })
    await vi.advanceTimersByTimeAsync(10_000)
    expect(await iterator.next()).toEqual({ done: false, value: "ka" })
    await vi.advanceTimersByTimeAsync(10_000)
    expect(await iterator.next()).toEqual({ done: false, value: "ka" })
    release?.()
    expect(await iterator.next()).toEqual({ done: false, value: "b" })
    expect(await iterator.next()).toEqual({ done: true, value: undefined })
    // Ended: no keepalive after the stream.
    await vi.advanceTimersByTimeAsync(30_000)
    expect(await iterator.next()).toEqual({ done: true, value: undefined })
  })
})
