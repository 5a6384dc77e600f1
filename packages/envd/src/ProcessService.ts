/** The `process.Process` Connect service, backed by the ProcessTable. */
import type { MessageInitShape } from "@bufbuild/protobuf"
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect"
import { Effect, Stream } from "effect"
import type * as ConnectBridge from "./ConnectBridge.ts"
import { type EnvdError, envdError } from "./EnvdError.ts"
import {
  type Process,
  type ProcessEventSchema,
  type ProcessSelector as ProcessSelectorMessage,
  Signal,
} from "./gen/process/process_pb.ts"
import * as KeepAlive from "./KeepAlive.ts"
import type { SignalName } from "./ProcessEnd.ts"
import { type OutputSink, type ProcessSelector, ProcessTable, type Subscription } from "./ProcessTable.ts"
import type { SandboxTarget } from "./SandboxTarget.ts"

type ProcessEventInit = MessageInitShape<typeof ProcessEventSchema>

/** A terminal the client did not size. */
const defaultTerminal = { cols: 80, rows: 24 }

const selectorOf = (selector: ProcessSelectorMessage | undefined) => {
  switch (selector?.selector.case) {
    case "pid":
      return Effect.succeed<ProcessSelector>({ pid: selector.selector.value })
    case "tag":
      return Effect.succeed<ProcessSelector>({ tag: selector.selector.value })
    default:
      return Effect.fail(envdError("invalid_argument", "a process selector (pid or tag) is required"))
  }
}

const signalOf = (signal: Signal) => {
  switch (signal) {
    case Signal.SIGKILL:
      return Effect.succeed<SignalName>("KILL")
    case Signal.SIGTERM:
      return Effect.succeed<SignalName>("TERM")
    default:
      return Effect.fail(envdError("invalid_argument", `unsupported signal ${signal}`))
  }
}

type Event = { event: ProcessEventInit }

/** The process's outputs as envd's events: start{pid}, data, end (the bridge adds keepalives). */
const toEvents = (sink: ConnectBridge.Sink<Event>): OutputSink => ({
  push: (output) => {
    switch (output._tag) {
      case "Start":
        return sink.push({ event: { event: { case: "start", value: { pid: output.pid } } } })
      case "Data":
        return sink.push({
          event: { event: { case: "data", value: { output: { case: output.stream, value: output.bytes } } } },
        })
      case "End":
        sink.push({
          event: {
            event: {
              case: "end",
              value: {
                exitCode: output.report.exitCode,
                exited: output.report.exited,
                status: output.report.status,
                ...(output.report.error !== undefined ? { error: output.report.error } : {}),
              },
            },
          },
        })
        sink.end()
        return true
      case "Lost":
        sink.end(output.error)
        return true
    }
  },
})

/** The bridge's hold on a subscription. */
const sourceOf = (subscription: Subscription): ConnectBridge.Source => ({
  resume: subscription.resume,
  cancel: subscription.detach,
})

const keepAliveOf = (context: HandlerContext) =>
  KeepAlive.fromHeader<Event>(
    { event: { event: { case: "keepalive", value: {} } } },
    context.requestHeader.get("keepalive-ping-interval"),
  )

export const make = (
  bridge: ConnectBridge.ConnectBridge<ProcessTable>,
  targetOf: (context: HandlerContext) => Effect.Effect<SandboxTarget, EnvdError>,
): ServiceImpl<typeof Process> => {
  const withTable = <A, R>(
    context: HandlerContext,
    use: (table: typeof ProcessTable.Service, target: SandboxTarget) => Effect.Effect<A, EnvdError, R>,
  ) => Effect.flatMap(Effect.all([ProcessTable, targetOf(context)]), ([table, target]) => use(table, target))

  return {
    start: (request, context) =>
      bridge.push(
        context,
        (sink: ConnectBridge.Sink<Event>) =>
          withTable(context, (table, target) => {
            if (request.process === undefined) {
              return Effect.fail(envdError("invalid_argument", "process configuration is required"))
            }
            const timeoutMs = context.timeoutMs()
            const spec = {
              config: request.process,
              ...(request.pty !== undefined ? { pty: request.pty.size ?? defaultTerminal } : {}),
              ...(request.tag !== undefined ? { tag: request.tag } : {}),
              // Unset means enabled, as for clients older than the stdin flag.
              stdin: request.stdin ?? true,
              ...(timeoutMs !== undefined ? { timeoutMs } : {}),
            }
            return Effect.map(table.start(target, spec, toEvents(sink)), sourceOf)
          }),
        keepAliveOf(context),
      ),

    connect: (request, context) =>
      bridge.push(
        context,
        (sink: ConnectBridge.Sink<Event>) =>
          withTable(context, (table, target) =>
            Effect.flatMap(selectorOf(request.process), (selector) =>
              Effect.map(table.attach(target, selector, toEvents(sink)), sourceOf),
            ),
          ),
        keepAliveOf(context),
      ),

    list: (_request, context) =>
      bridge.unary(
        context,
        withTable(context, (table, target) => Effect.map(table.list(target), (processes) => ({ processes }))),
      ),

    update: (request, context) =>
      bridge.unary(
        context,
        withTable(context, (table, target) =>
          Effect.gen(function* () {
            const selector = yield* selectorOf(request.process)
            const size = request.pty?.size
            if (size !== undefined)
              yield* table.resize(target, selector, { cols: size.cols, rows: size.rows })
            return {}
          }),
        ),
      ),

    streamInput: (requests, context) =>
      bridge.unary(
        context,
        withTable(context, (table, target) =>
          Stream.fromAsyncIterable(requests, (cause) =>
            envdError("canceled", `reading the input stream failed: ${String(cause)}`),
          ).pipe(
            Stream.runFoldEffect(undefined as ProcessSelector | undefined, (selected, request) => {
              switch (request.event.case) {
                case "start":
                  return selectorOf(request.event.value.process)
                case "data": {
                  const input = request.event.value.input?.input
                  if (selected === undefined) {
                    return Effect.fail(envdError("failed_precondition", "input before the start event"))
                  }
                  if (input?.case === "stdin") {
                    return Effect.as(table.sendInput(target, selected, { stdin: input.value }), selected)
                  }
                  if (input?.case === "pty") {
                    return Effect.as(table.sendInput(target, selected, { pty: input.value }), selected)
                  }
                  return Effect.fail(envdError("unimplemented", "invalid input type"))
                }
                case "keepalive":
                  return Effect.succeed(selected)
                default:
                  return Effect.fail(envdError("unimplemented", "invalid event type"))
              }
            }),
            Effect.as({}),
          ),
        ),
      ),

    sendInput: (request, context) =>
      bridge.unary(
        context,
        withTable(context, (table, target) =>
          Effect.gen(function* () {
            const selector = yield* selectorOf(request.process)
            const input = request.input?.input
            switch (input?.case) {
              case "stdin":
                yield* table.sendInput(target, selector, { stdin: input.value })
                break
              case "pty":
                yield* table.sendInput(target, selector, { pty: input.value })
                break
              default:
                return yield* Effect.fail(envdError("unimplemented", "invalid input type"))
            }
            return {}
          }),
        ),
      ),

    sendSignal: (request, context) =>
      bridge.unary(
        context,
        withTable(context, (table, target) =>
          Effect.gen(function* () {
            const selector = yield* selectorOf(request.process)
            const signal = yield* signalOf(request.signal)
            yield* table.signal(target, selector, signal)
            return {}
          }),
        ),
      ),

    closeStdin: (request, context) =>
      bridge.unary(
        context,
        withTable(context, (table, target) =>
          Effect.gen(function* () {
            yield* table.closeStdin(target, yield* selectorOf(request.process))
            return {}
          }),
        ),
      ),
  }
}
