import { parseArgs } from "node:util"

/** The knobs of `npm run bench:inplace -- ...`; see bench/README.md. */
export interface InPlaceBenchOptions {
  /** What KWOK plays for pulling and starting an image on a running Pod (the in-place swap). */
  readonly pullMillis: number
  /** What KWOK plays for a new Pod from scheduled to Running and Ready (the fresh-Pod path). */
  readonly coldMillis: number
  /** New images served per way and concurrency level. */
  readonly images: number
  readonly imageConcurrency: ReadonlyArray<number>
  /** Allocate+release cycles per recycle policy. */
  readonly requests: number
  readonly concurrency: number
  /** The warm target of the pools. */
  readonly replicas: number
  readonly out: string | undefined
}

const positive = (name: string, text: string): number => {
  const n = Number(text)
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, not ${text}`)
  return n
}

const nonNegative = (name: string, text: string): number => {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, not ${text}`)
  return n
}

export const parse = (argv: ReadonlyArray<string>): InPlaceBenchOptions => {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      "pull-ms": { type: "string", default: "1000" },
      "cold-ms": { type: "string", default: "1000" },
      images: { type: "string", default: "20" },
      "image-concurrency": { type: "string", default: "1,8" },
      requests: { type: "string", default: "1000" },
      concurrency: { type: "string", default: "8" },
      replicas: { type: "string", default: "16" },
      out: { type: "string" },
    },
  })
  return {
    pullMillis: nonNegative("pull-ms", values["pull-ms"]),
    coldMillis: nonNegative("cold-ms", values["cold-ms"]),
    images: positive("images", values.images),
    imageConcurrency: values["image-concurrency"].split(",").map((c) => positive("image-concurrency", c)),
    requests: positive("requests", values.requests),
    concurrency: positive("concurrency", values.concurrency),
    replicas: positive("replicas", values.replicas),
    out: values.out,
  }
}
