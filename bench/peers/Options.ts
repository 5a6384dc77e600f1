import { parseArgs } from "node:util"

/** The side-by-side benchmark's knobs (flags after `npm run bench:peers --`); see bench/README.md. */
export interface PeersBenchOptions {
  /** Warm sandboxes each system keeps (the same for both). */
  readonly replicas: number
  /** Claims per round, per path. */
  readonly count: number
  /** Rounds per level; the paths alternate within each. */
  readonly rounds: number
  readonly levels: ReadonlyArray<number>
  /** Time-to-first-instruction samples per system (sequential, alternating); 0 skips it. */
  readonly tffi: number
  /** Warm Pods watched for each point of the scale curve; empty skips it. */
  readonly scale: ReadonlyArray<number>
  /** Claims timed at each point of the scale curve (at c=16). */
  readonly scaleCount: number
  /** Flags for the peer after its deployment's own, e.g. `--sandbox-claim-concurrent-workers=100`. */
  readonly peerArgs: ReadonlyArray<string>
  /** A V8 CPU profile of the operator during one c=16 round of allocations. */
  readonly cpuProfile: boolean
  readonly out: string | undefined
}

const positive = (name: string, text: string): number => {
  const n = Number(text)
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, not ${text}`)
  return n
}

const nonNegative = (name: string, text: string): number => {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, not ${text}`)
  return n
}

const list = (name: string, text: string) =>
  text === "" || text === "none" ? [] : text.split(",").map((part) => positive(name, part.trim()))

/** Claims before the first level, per path (released again), so no level pays for JIT or first connections. */
export const warmupCount = 16

export const parse = (argv: ReadonlyArray<string>): PeersBenchOptions => {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      replicas: { type: "string", default: "256" },
      count: { type: "string", default: "200" },
      rounds: { type: "string", default: "3" },
      levels: { type: "string", default: "1,16,64" },
      tffi: { type: "string", default: "30" },
      scale: { type: "string", default: "500,2000" },
      "scale-count": { type: "string", default: "200" },
      "peer-args": { type: "string", default: "" },
      "cpu-prof": { type: "boolean", default: false },
      smoke: { type: "boolean", default: false },
      out: { type: "string" },
    },
  })
  // --smoke: small counts that show every step works in a few minutes (not numbers to quote).
  const smoke = values.smoke
  const replicas = positive("replicas", smoke ? "24" : values.replicas)
  const count = positive("count", smoke ? "16" : values.count)
  if (count > replicas)
    throw new Error(`--count (${count}) must not exceed --replicas (${replicas}): every claim is served warm`)
  const scale = list("scale", smoke ? "100" : values.scale)
  const scaleCount = positive("scale-count", smoke ? "16" : values["scale-count"])
  for (const size of scale)
    if (scaleCount > size)
      throw new Error(`--scale-count (${scaleCount}) must not exceed every --scale size (${size})`)
  return {
    replicas,
    count,
    rounds: positive("rounds", smoke ? "1" : values.rounds),
    levels: list("levels", smoke ? "1,16" : values.levels),
    tffi: smoke ? 5 : nonNegative("tffi", values.tffi),
    scale,
    scaleCount,
    peerArgs: values["peer-args"].split(" ").filter((a) => a !== ""),
    cpuProfile: values["cpu-prof"],
    out: values.out,
  }
}
