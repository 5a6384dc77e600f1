/**
 * Splits the launcher's first stdout line (its pid; see ShellScript.launchArgv) from the
 * command's own output. Under a TTY the line ends in "\r\n".
 */
export type LaunchState =
  | { readonly _tag: "AwaitingPid"; readonly buffered: Uint8Array }
  | { readonly _tag: "Started"; readonly pid: number }
  /** The first line was not a pid: the launcher failed; the bytes say why. */
  | { readonly _tag: "NoPid"; readonly output: Uint8Array }

export const awaitingPid: LaunchState = { _tag: "AwaitingPid", buffered: new Uint8Array(0) }

export interface LaunchStep {
  readonly state: LaunchState
  /** Set on the chunk that completed the pid line. */
  readonly pid?: number
  /** Output of the command itself in this chunk. */
  readonly output: Uint8Array
}

const newline = 0x0a
/** A pid line is short; anything longer means the launcher did not print one. */
const maxPidLine = 32
const empty = new Uint8Array(0)

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const joined = new Uint8Array(a.length + b.length)
  joined.set(a, 0)
  joined.set(b, a.length)
  return joined
}

export const feed = (state: LaunchState, chunk: Uint8Array): LaunchStep => {
  switch (state._tag) {
    case "Started":
      return { state, output: chunk }
    case "NoPid":
      return { state: { _tag: "NoPid", output: concat(state.output, chunk) }, output: empty }
    case "AwaitingPid": {
      const joined = concat(state.buffered, chunk)
      const end = joined.indexOf(newline)
      if (end < 0) {
        return joined.length > maxPidLine
          ? { state: { _tag: "NoPid", output: joined }, output: empty }
          : { state: { _tag: "AwaitingPid", buffered: joined }, output: empty }
      }
      const line = new TextDecoder().decode(joined.subarray(0, end)).replace(/\r$/, "")
      const pid = Number(line)
      if (!/^\d+$/.test(line) || !Number.isSafeInteger(pid)) {
        return { state: { _tag: "NoPid", output: joined }, output: empty }
      }
      return { state: { _tag: "Started", pid }, pid, output: joined.subarray(end + 1) }
    }
  }
}

/** Bytes held back because no pid line came (yet). */
export const heldBack = (state: LaunchState): Uint8Array =>
  state._tag === "AwaitingPid" ? state.buffered : state._tag === "NoPid" ? state.output : empty
