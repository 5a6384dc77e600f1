/**
 * The pure half of exec over WebSocket: the request path and the channel framing of the
 * vN.channel.k8s.io subprotocols (one leading byte names the stream), and reading the
 * metav1.Status the server sends on the error channel when the command ends.
 */

export const Channel = {
  stdin: 0,
  stdout: 1,
  stderr: 2,
  /** v4+: a JSON metav1.Status once the command has ended. */
  status: 3,
  resize: 4,
  /** v5: `[255, n]` half-closes stream n (we use it to signal end of stdin). */
  close: 255,
} as const

/**
 * What we offer, newest first; the server picks the newest it speaks (v5 since Kubernetes 1.30).
 * Older ones are left out: before v4 the status channel carries no exit code.
 */
export const subprotocols: ReadonlyArray<string> = ["v5.channel.k8s.io", "v4.channel.k8s.io"]

/** Only v5 can end stdin without closing the connection. */
export const supportsStdinClose = (protocol: string): boolean => protocol === "v5.channel.k8s.io"

export interface ExecRequest {
  readonly namespace: string
  readonly pod: string
  readonly container?: string
  readonly command: ReadonlyArray<string>
  readonly stdin: boolean
  readonly tty: boolean
}

/** A TTY merges stderr into stdout, and the API rejects asking for both. */
export const execPath = (request: ExecRequest): string => {
  const query = new URLSearchParams()
  for (const part of request.command) query.append("command", part)
  if (request.container !== undefined) query.set("container", request.container)
  query.set("stdin", String(request.stdin))
  query.set("stdout", "true")
  query.set("stderr", String(!request.tty))
  query.set("tty", String(request.tty))
  const namespace = encodeURIComponent(request.namespace)
  const pod = encodeURIComponent(request.pod)
  return `/api/v1/namespaces/${namespace}/pods/${pod}/exec?${query.toString()}`
}

/** Bytes for `channel`, split so no single WebSocket message gets large. */
export const encodeFrames = (
  channel: number,
  data: Uint8Array,
  maxPayload = 32 * 1024,
): Array<Uint8Array> => {
  const frames: Array<Uint8Array> = []
  for (let offset = 0; offset < data.length; offset += maxPayload) {
    const part = data.subarray(offset, Math.min(offset + maxPayload, data.length))
    const frame = new Uint8Array(part.length + 1)
    frame[0] = channel
    frame.set(part, 1)
    frames.push(frame)
  }
  return frames
}

export const closeFrame = (channel: number): Uint8Array => Uint8Array.of(Channel.close, channel)

export interface TerminalSize {
  readonly cols: number
  readonly rows: number
}

export const resizeFrame = (size: TerminalSize): Uint8Array =>
  encodeFrames(
    Channel.resize,
    new TextEncoder().encode(JSON.stringify({ Width: size.cols, Height: size.rows })),
  )[0]!

export type CommandOutcome =
  | { readonly _tag: "Exited"; readonly exitCode: number }
  /** The command could not run (e.g. not found) or the server failed: no exit code. */
  | { readonly _tag: "Failed"; readonly code: number; readonly reason: string; readonly message: string }

/**
 * Runtimes that do not wrap the exit as NonZeroExitCode (KWOK's local exec) report an
 * InternalError whose message ends like Go's exec.ExitError, "...: exit status 3" (possibly
 * followed by captured stderr on later lines).
 */
const exitStatusInMessage = (message: string): number | undefined => {
  const match = /(?:^|: )exit status (\d{1,3})$/m.exec(message)
  return match?.[1] !== undefined ? Number(match[1]) : undefined
}

interface StatusCause {
  readonly reason?: unknown
  readonly message?: unknown
}

/**
 * Success is exit 0; Failure with reason NonZeroExitCode carries the code as the message of
 * the cause whose reason is ExitCode. Anything else, bar the runtime quirk above, means there
 * is no exit code to report.
 */
export const parseStatus = (payload: Uint8Array | string): CommandOutcome => {
  const text = typeof payload === "string" ? payload : new TextDecoder().decode(payload)
  let status: {
    status?: unknown
    reason?: unknown
    message?: unknown
    code?: unknown
    details?: { causes?: ReadonlyArray<StatusCause> }
  }
  try {
    status = JSON.parse(text)
  } catch {
    return { _tag: "Failed", code: 0, reason: "InvalidStatus", message: `unreadable exec status: ${text}` }
  }
  if (status.status === "Success") return { _tag: "Exited", exitCode: 0 }
  if (status.reason === "NonZeroExitCode") {
    const cause = status.details?.causes?.find((c) => c.reason === "ExitCode")
    const exitCode = Number(cause?.message)
    if (Number.isInteger(exitCode)) return { _tag: "Exited", exitCode }
  }
  const reported = typeof status.message === "string" ? exitStatusInMessage(status.message) : undefined
  if (reported !== undefined) return { _tag: "Exited", exitCode: reported }
  return {
    _tag: "Failed",
    code: typeof status.code === "number" ? status.code : 0,
    reason: typeof status.reason === "string" ? status.reason : "Unknown",
    message: typeof status.message === "string" ? status.message : text,
  }
}
