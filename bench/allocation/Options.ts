import { parseArgs } from "node:util"

/** The benchmark's knobs (flags after `npm run bench:allocation --`); see bench/README.md. */
export interface AllocationBenchOptions {
  /** Warm Pods the pool keeps. */
  readonly replicas: number
  /** Operations per round (allocations, PATCHes) and floor requests per level. */
  readonly count: number
  /** Rounds per level, ceiling and allocation alternating. */
  readonly rounds: number
  readonly levels: ReadonlyArray<number>
  readonly coldSequential: number
  readonly coldConcurrent: number
  readonly operator: "process" | "in-process"
  /** Diagnostic: the pool may not exceed `replicas` Pods, so nothing is refilled during a level. */
  readonly noRefill: boolean
  /** Diagnostic: the measured operator follows (another identity holds its Lease): no reconciler runs. */
  readonly follower: boolean
  readonly cpuProfile: boolean
  readonly nodeArgs: ReadonlyArray<string>
  /**
   * Run the operator's .ts sources instead of what ships (the `npm run build` bundle, which applies
   * its own node settings).
   */
  readonly sources: boolean
  readonly out: string | undefined
}

const positive = (name: string, text: string): number => {
  const n = Number(text)
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, not ${text}`)
  return n
}

export const parse = (argv: ReadonlyArray<string>): AllocationBenchOptions => {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      replicas: { type: "string", default: "512" },
      count: { type: "string", default: "400" },
      rounds: { type: "string", default: "3" },
      levels: { type: "string", default: "1,16,64" },
      cold: { type: "string", default: "20" },
      "cold-concurrent": { type: "string", default: "32" },
      operator: { type: "string", default: "process" },
      "no-refill": { type: "boolean", default: false },
      follower: { type: "boolean", default: false },
      "cpu-prof": { type: "boolean", default: false },
      "node-args": { type: "string", default: "" },
      sources: { type: "boolean", default: false },
      out: { type: "string" },
    },
  })
  const count = positive("count", values.count)
  const levels = values.levels.split(",").map((l) => positive("levels", l))
  const rounds = positive("rounds", values.rounds)
  // A follower's pool is never refilled: it must hold every round's allocations (and the warm-up's).
  const replicas = values.follower
    ? Math.max(positive("replicas", values.replicas), count * rounds * levels.length + warmupCount)
    : positive("replicas", values.replicas)
  if (count > replicas)
    throw new Error(`--count (${count}) must not exceed --replicas (${replicas}): every level is served warm`)
  if (values.operator !== "process" && values.operator !== "in-process")
    throw new Error("--operator is process or in-process")
  if (
    values.operator === "in-process" &&
    (values.sources || values["node-args"] !== "" || values["cpu-prof"])
  )
    throw new Error("--sources, --node-args and --cpu-prof apply to the operator's own process only")
  return {
    replicas,
    count,
    rounds,
    levels,
    coldSequential: positive("cold", values.cold),
    coldConcurrent: positive("cold-concurrent", values["cold-concurrent"]),
    operator: values.operator,
    noRefill: values["no-refill"],
    follower: values.follower,
    cpuProfile: values["cpu-prof"],
    nodeArgs: values["node-args"].split(" ").filter((a) => a !== ""),
    sources: values.sources,
    out: values.out,
  }
}

/** Allocations before the first level (released again), so no level pays for JIT or first connections. */
export const warmupCount = 16
