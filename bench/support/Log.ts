import { Logger } from "effect"

const text = (message: unknown): string =>
  Array.isArray(message) ? message.map((part) => String(part)).join(" ") : String(message)

/** Progress (and the in-process operator's logs) on stderr, so stdout holds only the results. */
export const stderrLogger = Logger.replace(
  Logger.defaultLogger,
  Logger.make(({ message, logLevel }) => {
    process.stderr.write(`${logLevel.label === "INFO" ? "" : `${logLevel.label} `}${text(message)}\n`)
  }),
)

export const progress = (message: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
}
