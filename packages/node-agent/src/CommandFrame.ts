/**
 * The frames between the agent and a container's entered process (helper/sandbox-enter.c), one
 * connection per program: a type byte, a 4-byte big-endian payload length, the payload. The agent
 * sends the request, then stdin, its end and terminal sizes; the entered process sends the
 * program's stdout, stderr (or terminal output, as stdout) and finally its exit.
 */
import type { SandboxShell } from "@agent-sandbox/envd"

export const FrameType = {
  request: 1,
  stdin: 2,
  stdinEnd: 3,
  resize: 4,
  stdout: 17,
  stderr: 18,
  exit: 19,
} as const

/** The largest payload either side accepts (the helper's MAX_PAYLOAD). */
export const maxPayload = 1 << 20
/** Stdin is sent in pieces no larger than this. */
export const stdinChunk = 64 * 1024

const headerLength = 5

export const encode = (type: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array => {
  const frame = new Uint8Array(headerLength + payload.length)
  frame[0] = type
  new DataView(frame.buffer).setUint32(1, payload.length)
  frame.set(payload, headerLength)
  return frame
}

export interface Request {
  readonly argv: ReadonlyArray<string>
  readonly stdin: boolean
  readonly terminal?: SandboxShell.TerminalSize
}

/** NUL-separated: stdin ("0"/"1"), the terminal ("-" or COLSxROWS), then argv. */
export const encodeRequest = (request: Request): Uint8Array =>
  encode(
    FrameType.request,
    Buffer.from(
      [
        request.stdin ? "1" : "0",
        request.terminal === undefined ? "-" : `${request.terminal.cols}x${request.terminal.rows}`,
        ...request.argv,
      ].join("\0"),
    ),
  )

/** Stdin as frames no larger than `stdinChunk`. */
export const encodeStdin = (bytes: Uint8Array): ReadonlyArray<Uint8Array> => {
  const frames: Array<Uint8Array> = []
  for (let at = 0; at < bytes.length; at += stdinChunk) {
    frames.push(encode(FrameType.stdin, bytes.subarray(at, at + stdinChunk)))
  }
  return frames
}

export const encodeResize = (size: SandboxShell.TerminalSize): Uint8Array =>
  encode(FrameType.resize, Buffer.from(`${size.cols} ${size.rows}`))

/** What the entered process sends. */
export type Inbound =
  | { readonly _tag: "Stdout"; readonly bytes: Uint8Array }
  | { readonly _tag: "Stderr"; readonly bytes: Uint8Array }
  | { readonly _tag: "Exit"; readonly exit: SandboxShell.CommandExit }
  | { readonly _tag: "Invalid"; readonly message: string }

/** A program killed by signal n exits 128 + n, as a shell reports it (and exec did). */
export const exitOf = (payload: Uint8Array): SandboxShell.CommandExit | undefined => {
  if (payload.length !== 2) return undefined
  const [kind, value] = payload as unknown as [number, number]
  if (kind === 0) return { _tag: "Exited", exitCode: value }
  if (kind === 1) return { _tag: "Exited", exitCode: 128 + value }
  return undefined
}

/** Bytes received and not yet a whole frame. */
export type DecodeState = Uint8Array

export const initial: DecodeState = new Uint8Array(0)

/** Appends `chunk` and takes every whole frame off the front. */
export const decode = (
  state: DecodeState,
  chunk: Uint8Array,
): readonly [DecodeState, ReadonlyArray<Inbound>] => {
  const bytes = state.length === 0 ? chunk : Buffer.concat([state, chunk])
  const frames: Array<Inbound> = []
  let at = 0
  while (bytes.length - at >= headerLength) {
    const type = bytes[at]
    const length = new DataView(bytes.buffer, bytes.byteOffset + at + 1, 4).getUint32(0)
    if (length > maxPayload) {
      return [initial, [...frames, { _tag: "Invalid", message: `a frame of ${length} bytes` }]]
    }
    if (bytes.length - at < headerLength + length) break
    const payload = bytes.subarray(at + headerLength, at + headerLength + length)
    at += headerLength + length
    switch (type) {
      case FrameType.stdout:
        frames.push({ _tag: "Stdout", bytes: payload })
        break
      case FrameType.stderr:
        frames.push({ _tag: "Stderr", bytes: payload })
        break
      case FrameType.exit: {
        const exit = exitOf(payload)
        frames.push(
          exit === undefined
            ? { _tag: "Invalid", message: "a malformed exit frame" }
            : { _tag: "Exit", exit },
        )
        break
      }
      default:
        frames.push({ _tag: "Invalid", message: `an unknown frame type ${type}` })
    }
  }
  return [at === bytes.length ? initial : bytes.subarray(at), frames]
}
