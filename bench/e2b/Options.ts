import { parseArgs } from "node:util"

/** The benchmark's knobs (flags after `npm run bench:e2b --`); see bench/README.md. */
export interface E2bBenchOptions {
  /** Warm Pods the pool keeps. */
  readonly replicas: number
  /** Sandbox.create calls timed (each sandbox killed right after). */
  readonly creates: number
  /** Operations per command row (commands.run, bare exec, /health). */
  readonly runs: number
  /** Sandboxes held, and the concurrency of the "across sandboxes" rows (one operation per sandbox at a time). */
  readonly concurrency: number
  /** Writes and reads of each large payload (1 MiB, 10 MiB). */
  readonly largeRounds: number
  /** Writes and reads of the 1 KiB file. */
  readonly smallFiles: number
  /** The operator writes a V8 CPU profile when it stops. */
  readonly cpuProfile: boolean
  readonly out: string | undefined
}

const positive = (name: string, text: string): number => {
  const n = Number(text)
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, not ${text}`)
  return n
}

export const parse = (argv: ReadonlyArray<string>): E2bBenchOptions => {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      replicas: { type: "string", default: "8" },
      creates: { type: "string", default: "30" },
      runs: { type: "string", default: "200" },
      concurrency: { type: "string", default: "8" },
      "large-rounds": { type: "string", default: "5" },
      "small-files": { type: "string", default: "50" },
      "cpu-prof": { type: "boolean", default: false },
      out: { type: "string" },
    },
  })
  const replicas = positive("replicas", values.replicas)
  const concurrency = positive("concurrency", values.concurrency)
  if (concurrency > replicas)
    throw new Error(
      `--concurrency (${concurrency}) must not exceed --replicas (${replicas}): sandboxes are served warm`,
    )
  return {
    replicas,
    creates: positive("creates", values.creates),
    runs: positive("runs", values.runs),
    concurrency,
    largeRounds: positive("large-rounds", values["large-rounds"]),
    smallFiles: positive("small-files", values["small-files"]),
    cpuProfile: values["cpu-prof"],
    out: values.out,
  }
}

/** Untimed operations before each kind of row, so no row pays for JIT or first connections. */
export const warmupCount = 10
