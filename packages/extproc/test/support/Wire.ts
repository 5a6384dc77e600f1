/** Envoy's side of an ext_proc stream for the tests: the messages Envoy sends, what came back. */
import { create } from "@bufbuild/protobuf"
import * as grpc from "@grpc/grpc-js"
import { Effect } from "effect"
import * as GrpcService from "../../src/GrpcService.ts"
import {
  ExternalProcessor,
  type ProcessingRequest,
  ProcessingRequestSchema,
  type ProcessingResponse,
} from "../../src/gen/envoy/service/ext_proc/v3/external_processor_pb.ts"

const Client = grpc.makeGenericClientConstructor(
  GrpcService.definition(ExternalProcessor),
  "ExternalProcessor",
)

/** A client of the extproc on `port`, closed with the scope (many streams share its connection). */
export const client = (port: number) =>
  Effect.acquireRelease(
    Effect.sync(() => new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure())),
    (c) => Effect.sync(() => c.close()),
  )

/** One ext_proc stream as Envoy opens it on `through`: the messages in order, the answers collected. */
export const converseOn = (through: grpc.Client, messages: ReadonlyArray<ProcessingRequest>) =>
  Effect.async<ReadonlyArray<ProcessingResponse>, Error>((resume) => {
    // biome-ignore lint/suspicious/noExplicitAny: generic clients are untyped
    const call = (through as any).process() as grpc.ClientDuplexStream<ProcessingRequest, ProcessingResponse>
    const answers: Array<ProcessingResponse> = []
    call.on("data", (answer: ProcessingResponse) => {
      answers.push(answer)
      if (answers.length === messages.length) call.end()
    })
    call.on("end", () => resume(Effect.succeed(answers)))
    call.on("error", (error) => resume(Effect.fail(error)))
    for (const message of messages) call.write(message)
  })

/** One stream on a client of its own. */
export const converse = (port: number, messages: ReadonlyArray<ProcessingRequest>) =>
  Effect.scoped(Effect.flatMap(client(port), (through) => converseOn(through, messages)))

export const headers = (entries: Record<string, string>, endOfStream = true) =>
  create(ProcessingRequestSchema, {
    request: {
      case: "requestHeaders",
      value: {
        headers: {
          headers: Object.entries(entries).map(([key, value]) => ({
            key,
            rawValue: new TextEncoder().encode(value),
          })),
        },
        endOfStream,
      },
    },
  })

/** The headers a forward sets. */
export const setHeaders = (answer: ProcessingResponse | undefined) => {
  const value = answer?.response.value
  const common = value !== undefined && "response" in value ? value.response : undefined
  return Object.fromEntries(
    (common?.headerMutation?.setHeaders ?? []).map((h) => [
      h.header?.key ?? "",
      new TextDecoder().decode(h.header?.rawValue),
    ]),
  )
}

/** An immediate answer's status, or undefined for a forward. */
export const immediateStatus = (answer: ProcessingResponse | undefined): number | undefined =>
  answer?.response.case === "immediateResponse" ? answer.response.value.status?.code : undefined
