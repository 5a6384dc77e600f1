/**
 * How a finished command is reported, in the words of envd (Go's os.ProcessState): a normal
 * exit is "exit status N" (an error when N != 0); death by signal is exit code -1, not exited,
 * "signal: killed" / "signal: terminated".
 */
export type SignalName = "KILL" | "TERM"

export interface EndReport {
  readonly exitCode: number
  readonly exited: boolean
  readonly status: string
  readonly error?: string
}

const signalWords: Record<SignalName, string> = { KILL: "killed", TERM: "terminated" }
const signalNumbers: Record<SignalName, number> = { KILL: 9, TERM: 15 }

const signalled = (signal: SignalName): EndReport => {
  const status = `signal: ${signalWords[signal]}`
  return { exitCode: -1, exited: false, status, error: status }
}

/**
 * From the exit code exec reported. A shell or runtime reports death by signal N as 128+N (a
 * local runtime may say -1); it counts as that signal only when we sent it, since a command may
 * exit 137 on its own.
 */
export const fromExitCode = (exitCode: number, signalSent: SignalName | undefined): EndReport => {
  if (signalSent !== undefined && (exitCode === 128 + signalNumbers[signalSent] || exitCode < 0)) {
    return signalled(signalSent)
  }
  const status = `exit status ${exitCode}`
  return exitCode === 0
    ? { exitCode, exited: true, status }
    : { exitCode, exited: true, status, error: status }
}

/** When exec reported no exit code but a failure (e.g. "signal: killed" from a local runtime). */
export const fromFailure = (message: string, signalSent: SignalName | undefined): EndReport => {
  const match = /signal: (killed|terminated)/.exec(message)
  if (match !== null) return signalled(match[1] === "killed" ? "KILL" : "TERM")
  if (signalSent !== undefined) return signalled(signalSent)
  return { exitCode: -1, exited: false, status: "unknown", error: message }
}
