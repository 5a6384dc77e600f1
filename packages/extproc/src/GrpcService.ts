/**
 * A @grpc/grpc-js service definition from a protobuf-es service descriptor: grpc-js carries the
 * bytes, protobuf-es (the code generated from proto/extproc) encodes and decodes them. A handler
 * may answer with a message's init shape (plain fields): it is made a message before encoding.
 */
import { create, type DescService, fromBinary, toBinary } from "@bufbuild/protobuf"
import type * as grpc from "@grpc/grpc-js"

export const definition = (service: DescService): grpc.ServiceDefinition =>
  Object.fromEntries(
    service.methods.map((method) => [
      method.localName,
      {
        path: `/${service.typeName}/${method.name}`,
        requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
        responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
        // biome-ignore lint/suspicious/noExplicitAny: grpc-js definitions are untyped at this level
        requestSerialize: (message: any) =>
          Buffer.from(toBinary(method.input, create(method.input, message))),
        requestDeserialize: (bytes: Buffer) => fromBinary(method.input, bytes),
        // biome-ignore lint/suspicious/noExplicitAny: as above
        responseSerialize: (message: any) =>
          Buffer.from(toBinary(method.output, create(method.output, message))),
        responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
        originalName: method.name,
      },
    ]),
  )
