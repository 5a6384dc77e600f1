import { Code, ConnectError, createContextValues, createHandlerContext } from "@connectrpc/connect"
import { Effect, Runtime } from "effect"
import { describe, expect, it } from "vitest"
import * as ConnectBridge from "../src/ConnectBridge.ts"
import { envdError } from "../src/EnvdError.ts"
import { Process } from "../src/gen/process/process_pb.ts"

const context = (signal?: AbortSignal) =>
  createHandlerContext({
    service: Process,
    method: Process.method.start,
    protocolName: "connect",
    requestMethod: "POST",
    url: "http://envd/process.Process/Start",
    contextValues: createContextValues(),
    ...(signal !== undefined ? { requestSignal: signal } : {}),
  })

const bridge = ConnectBridge.make(Runtime.defaultRuntime)

/** A producer that records what the bridge tells it and lets the test push. */
const producer = () => {
  const calls = { resumed: 0, cancelled: 0 }
  let sink: ConnectBridge.Sink<number> | undefined
  const open = (given: ConnectBridge.Sink<number>) =>
    Effect.sync(() => {
      sink = given
      return {
        resume: () => {
          calls.resumed += 1
        },
        cancel: () => {
          calls.cancelled += 1
        },
      } satisfies ConnectBridge.Source
    })
  return { calls, open, sink: () => sink as ConnectBridge.Sink<number> }
}

const opened = async (p: ReturnType<typeof producer>) => {
  while (p.sink() === undefined) await new Promise((resolve) => setImmediate(resolve))
}

describe("ConnectBridge.push", () => {
  it("hands pushed items over in order and ends the call with the sink's end", async () => {
    const p = producer()
    const iterator = bridge.push(context(), p.open)[Symbol.asyncIterator]()
    await opened(p)
    expect(p.sink().push(1)).toBe(true)
    expect(p.sink().push(2)).toBe(true)
    p.sink().end()
    // Pushed after the end: dropped.
    p.sink().push(3)
    expect(await iterator.next()).toEqual({ done: false, value: 1 })
    expect(await iterator.next()).toEqual({ done: false, value: 2 })
    expect(await iterator.next()).toEqual({ done: true, value: undefined })
    expect(p.calls.cancelled).toBe(0)
  })

  it("answers false once the client lags and resumes the source when it caught up", async () => {
    const p = producer()
    const iterator = bridge.push(context(), p.open)[Symbol.asyncIterator]()
    await opened(p)
    let room = true
    let pushed = 0
    while (room) room = p.sink().push(pushed++)
    expect(pushed).toBe(64)
    expect(p.calls.resumed).toBe(0)
    expect(await iterator.next()).toEqual({ done: false, value: 0 })
    expect(p.calls.resumed).toBe(1)
  })

  it("fails the call with the sink's error, as a Connect error with its code", async () => {
    const p = producer()
    const iterator = bridge.push(context(), p.open)[Symbol.asyncIterator]()
    await opened(p)
    p.sink().end(envdError("unavailable", "the sandbox went away"))
    const error = await iterator.next().then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    )
    expect(error?.code).toBe(Code.Unavailable)
    expect(error?.rawMessage).toBe("the sandbox went away")
  })

  it("fails the call when open fails, without a source to cancel", async () => {
    const iterator = bridge
      .push<number>(context(), () => Effect.fail(envdError("not_found", "process with pid 7 not found")))
      [Symbol.asyncIterator]()
    const error = await iterator.next().then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    )
    expect(error?.code).toBe(Code.NotFound)
  })

  it("cancels the source when the client goes away, and the call ends canceled", async () => {
    const abort = new AbortController()
    const p = producer()
    const iterator = bridge.push(context(abort.signal), p.open)[Symbol.asyncIterator]()
    await opened(p)
    p.sink().push(1)
    expect(await iterator.next()).toEqual({ done: false, value: 1 })
    abort.abort()
    expect(p.calls.cancelled).toBe(1)
    const error = await iterator.next().then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    )
    expect(error?.code).toBe(Code.Canceled)
  })

  it("cancels the source when the reader stops iterating", async () => {
    const p = producer()
    const iterator = bridge.push(context(), p.open)[Symbol.asyncIterator]()
    await opened(p)
    await iterator.return?.()
    expect(p.calls.cancelled).toBe(1)
  })

  it("a source set up after the call ended is cancelled at once", async () => {
    let cancelled = 0
    const iterator = bridge
      .push<number>(context(), (sink) =>
        Effect.sync(() => {
          // The producer's end came before open returned (a command that ended at once).
          sink.push(5)
          sink.end()
          return {
            resume: () => {},
            cancel: () => {
              cancelled += 1
            },
          }
        }),
      )
      [Symbol.asyncIterator]()
    expect(await iterator.next()).toEqual({ done: false, value: 5 })
    expect(await iterator.next()).toEqual({ done: true, value: undefined })
    expect(cancelled).toBe(1)
  })
})
