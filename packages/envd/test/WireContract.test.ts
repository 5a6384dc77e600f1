/**
 * Our .proto files must describe exactly the wire format the published E2B SDK speaks: the
 * SDK (npm e2b, a dev dependency) embeds envd's file descriptors, which we compare with ours
 * by name — package, services, methods, messages, fields (number, type, label, oneof) and enums.
 */
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { fromBinary } from "@bufbuild/protobuf"
import {
  type DescriptorProto,
  type EnumDescriptorProto,
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt"
import { describe, expect, it } from "@effect/vitest"
import { file_filesystem_filesystem } from "../src/gen/filesystem/filesystem_pb.ts"
import { file_process_process } from "../src/gen/process/process_pb.ts"

const sdkDescriptors = (): Map<string, FileDescriptorProto> => {
  const bundle = readFileSync(createRequire(import.meta.url).resolve("e2b"), "utf8")
  const files = [...bundle.matchAll(/fileDesc\)?\("([A-Za-z0-9+/=]+)"/g)].map((match) =>
    fromBinary(FileDescriptorProtoSchema, Buffer.from(match[1]!, "base64")),
  )
  return new Map(files.map((file) => [file.name, file]))
}

const enumShape = (e: EnumDescriptorProto) => ({
  name: e.name,
  values: e.value.map((v) => [v.name, v.number]).sort(),
})

const messageShape = (m: DescriptorProto): unknown => ({
  name: m.name,
  mapEntry: m.options?.mapEntry ?? false,
  fields: [...m.field]
    .sort((a, b) => a.number - b.number)
    .map((f) => ({
      name: f.name,
      number: f.number,
      type: f.type,
      label: f.label,
      typeName: f.typeName,
      oneof:
        f.oneofIndex !== undefined && m.oneofDecl[f.oneofIndex] ? m.oneofDecl[f.oneofIndex]!.name : undefined,
      proto3Optional: f.proto3Optional,
    })),
  nested: [...m.nestedType].sort((a, b) => a.name.localeCompare(b.name)).map(messageShape),
  enums: [...m.enumType].sort((a, b) => a.name.localeCompare(b.name)).map(enumShape),
})

const fileShape = (file: FileDescriptorProto) => ({
  name: file.name,
  package: file.package,
  syntax: file.syntax,
  messages: [...file.messageType].sort((a, b) => a.name.localeCompare(b.name)).map(messageShape),
  enums: [...file.enumType].sort((a, b) => a.name.localeCompare(b.name)).map(enumShape),
  services: file.service.map((s) => ({
    name: s.name,
    methods: s.method
      .map((m) => [m.name, m.inputType, m.outputType, m.clientStreaming, m.serverStreaming])
      .sort(),
  })),
})

describe("envd wire contract", () => {
  const sdk = sdkDescriptors()

  it.each([
    ["process/process.proto", file_process_process.proto],
    ["filesystem/filesystem.proto", file_filesystem_filesystem.proto],
  ])("%s matches the descriptor embedded in the e2b SDK", (name, ours) => {
    const theirs = sdk.get(name)
    expect(theirs, `the e2b SDK embeds ${name}`).toBeDefined()
    expect(fileShape(ours)).toEqual(fileShape(theirs!))
  })
})
