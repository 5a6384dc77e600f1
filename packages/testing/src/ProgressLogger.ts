import { Logger } from "effect"

const text = (message: unknown): string =>
  Array.isArray(message) ? message.map((part) => String(part)).join(" ") : String(message)

/** Plain "control plane: ..." lines on stderr, for people watching a start (stdout stays for results). */
export const layer = Logger.replace(
  Logger.defaultLogger,
  Logger.make(({ message }) => {
    process.stderr.write(`control plane: ${text(message)}\n`)
  }),
)
