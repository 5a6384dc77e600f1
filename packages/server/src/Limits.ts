/**
 * The bounds the front doors and the data plane keep, each configurable (environment variables in
 * `config`) with a default safe for a shared server. docs/security.md lists them.
 */
import { Config } from "effect"

export interface Limits {
  /** Largest JSON request body on :8080 (REST, RPC over HTTP) and the E2B API on :8090, in bytes. */
  readonly maxBodyBytes: number
  /** Largest Connect message envd accepts, in bytes (larger: resource_exhausted). */
  readonly maxConnectMessageBytes: number
  /** Largest `/files` upload, in bytes, as sent and again after gunzip (larger: 413). */
  readonly maxUploadBytes: number
  /** Time a client has on :8090 to send its request headers, in milliseconds. */
  readonly headersTimeoutMillis: number
  /** Time a client has on :8090 to send a whole request (headers and body), in milliseconds. */
  readonly requestTimeoutMillis: number
  /** Processes envd runs at once in one sandbox. */
  readonly maxProcessesPerSandbox: number
  /** Directory watchers envd keeps at once for one sandbox. */
  readonly maxWatchersPerSandbox: number
  /** Input bytes a process's stdin may hold unread (SendInput past it: resource_exhausted). */
  readonly maxStdinBufferBytes: number
  /** Deepest ListDir (deeper: invalid_argument). */
  readonly maxListDepth: number
}

const MiB = 1024 * 1024

export const defaults: Limits = {
  maxBodyBytes: MiB,
  maxConnectMessageBytes: 16 * MiB,
  maxUploadBytes: 512 * MiB,
  headersTimeoutMillis: 30_000,
  requestTimeoutMillis: 600_000,
  maxProcessesPerSandbox: 256,
  maxWatchersPerSandbox: 64,
  maxStdinBufferBytes: 8 * MiB,
  maxListDepth: 32,
}

const positive = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.validate({ message: `${name} must be 1 or more`, validation: (n) => n >= 1 }),
    Config.withDefault(fallback),
  )

export const config: Config.Config<Limits> = Config.all({
  maxBodyBytes: positive("AGENT_SANDBOX_MAX_BODY_BYTES", defaults.maxBodyBytes),
  maxConnectMessageBytes: positive(
    "AGENT_SANDBOX_MAX_CONNECT_MESSAGE_BYTES",
    defaults.maxConnectMessageBytes,
  ),
  maxUploadBytes: positive("AGENT_SANDBOX_MAX_UPLOAD_BYTES", defaults.maxUploadBytes),
  headersTimeoutMillis: positive("AGENT_SANDBOX_HEADERS_TIMEOUT_MS", defaults.headersTimeoutMillis),
  requestTimeoutMillis: positive("AGENT_SANDBOX_REQUEST_TIMEOUT_MS", defaults.requestTimeoutMillis),
  maxProcessesPerSandbox: positive(
    "AGENT_SANDBOX_MAX_PROCESSES_PER_SANDBOX",
    defaults.maxProcessesPerSandbox,
  ),
  maxWatchersPerSandbox: positive("AGENT_SANDBOX_MAX_WATCHERS_PER_SANDBOX", defaults.maxWatchersPerSandbox),
  maxStdinBufferBytes: positive("AGENT_SANDBOX_MAX_STDIN_BUFFER_BYTES", defaults.maxStdinBufferBytes),
  maxListDepth: positive("AGENT_SANDBOX_MAX_LIST_DEPTH", defaults.maxListDepth),
})
