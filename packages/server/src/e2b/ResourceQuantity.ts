/**
 * Kubernetes resource quantities ("500m", "2", "1Gi", "512M", "1e3") as numbers, for the sizes
 * the E2B API reports (cpuCount, memoryMB, diskSizeMB). Undefined when a value is not a quantity.
 */
const suffixes: Record<string, number> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
}

const pattern = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?)$/

export const parse = (quantity: string): number | undefined => {
  const match = pattern.exec(quantity.trim())
  if (match === null) return undefined
  const [, number, exponent, suffix] = match
  const value = Number(`${number}${exponent ?? ""}`)
  const factor = suffixes[suffix ?? ""]
  return Number.isFinite(value) && factor !== undefined ? value * factor : undefined
}

/** Whole CPUs, rounded up (a 500m limit is one CPU's worth of time). */
export const cpuCount = (quantity: string): number | undefined => {
  const cores = parse(quantity)
  return cores === undefined ? undefined : Math.ceil(cores)
}

/** Mebibytes, rounded down. */
export const mebibytes = (quantity: string): number | undefined => {
  const bytes = parse(quantity)
  return bytes === undefined ? undefined : Math.floor(bytes / 2 ** 20)
}
