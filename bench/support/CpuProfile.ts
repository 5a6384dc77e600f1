/**
 * Where a V8 CPU profile (`node --cpu-prof`, a .cpuprofile) spent its time: self time per function,
 * and per module — the package under node_modules, a workspace package, or a bundle — so a profile
 * of the operator says what its milliseconds per claim are made of. Pure: reads the parsed JSON.
 */

interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
  readonly columnNumber: number
}

interface ProfileNode {
  readonly id: number
  readonly callFrame: CallFrame
  readonly children?: ReadonlyArray<number>
}

export interface CpuProfile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly startTime: number
  readonly endTime: number
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

export interface Share {
  readonly name: string
  /** Self time, milliseconds. */
  readonly millis: number
  /** Of the busy time (all but "(idle)"). */
  readonly fraction: number
}

export interface ProfileSummary {
  /** Wall time the profile covers (or its windows), ms. */
  readonly wallMillis: number
  /** Sampled time not idle, ms. */
  readonly busyMillis: number
  readonly byFunction: ReadonlyArray<Share>
  readonly byModule: ReadonlyArray<Share>
  /** Time with the function anywhere on the stack (each sample counted once per function). */
  readonly byFunctionTotal: ReadonlyArray<Share>
}

/** "effect", "@effect/platform", "undici", "packages/kube", "node:internal", "(garbage collector)"... */
export const moduleOf = (frame: CallFrame): string => {
  const url = frame.url
  if (url === "") return frame.functionName.startsWith("(") ? frame.functionName : "(native)"
  const nodeModules = url.lastIndexOf("/node_modules/")
  if (nodeModules >= 0) {
    const rest = url.slice(nodeModules + "/node_modules/".length).split("/")
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1] ?? ""}` : (rest[0] ?? url)
  }
  const workspace = /\/packages\/([^/]+)\//.exec(url)
  if (workspace !== null) return `packages/${workspace[1]}`
  if (url.startsWith("node:")) return url.startsWith("node:internal") ? "node:internal" : url
  return url.slice(url.lastIndexOf("/") + 1)
}

/** Name and place; a bundle's long lines need the column too. */
const functionKey = (frame: CallFrame): string =>
  `${frame.functionName || "(anonymous)"} ${frame.url === "" ? "" : `${frame.url.slice(frame.url.lastIndexOf("/") + 1)}:${frame.lineNumber + 1}:${frame.columnNumber + 1}`}`.trim()

const shares = (totals: ReadonlyMap<string, number>, busy: number, top: number): ReadonlyArray<Share> =>
  [...totals]
    .filter(([name]) => name !== "(idle)")
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, micros]) => ({ name, millis: micros / 1000, fraction: busy > 0 ? micros / busy : 0 }))

/** A stretch of the profile's clock (microseconds, as `startTime`): [from, to). */
export type Window = readonly [from: number, to: number]

/**
 * Self time per function and per module, the `top` largest of each. With `windows`, only the samples
 * taken within one of them count (e.g. a benchmark's claim rounds, leaving out the pool's fill).
 */
export const summarize = (profile: CpuProfile, top = 25, windows?: ReadonlyArray<Window>): ProfileSummary => {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]))
  const selfMicros = new Map<number, number>()
  let at = profile.startTime
  let windowed = 0
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0
    at += delta
    if (windows !== undefined && !windows.some(([from, to]) => at >= from && at < to)) return
    windowed += delta
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + delta)
  })
  const byFunction = new Map<string, number>()
  const byModule = new Map<string, number>()
  // Inclusive time: walk each sampled node's stack once, counting every distinct function on it.
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const byFunctionTotal = new Map<string, number>()
  for (const [id, micros] of selfMicros) {
    if (frames.get(id)?.functionName === "(idle)") continue
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = frames.get(at)
      if (frame === undefined || frame.functionName === "(root)") continue
      const key = functionKey(frame)
      if (seen.has(key)) continue
      seen.add(key)
      byFunctionTotal.set(key, (byFunctionTotal.get(key) ?? 0) + micros)
    }
  }
  let busy = 0
  for (const [id, micros] of selfMicros) {
    const frame = frames.get(id)
    if (frame === undefined) continue
    if (frame.functionName !== "(idle)") busy += micros
    const fn = functionKey(frame)
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + micros)
    const module = moduleOf(frame)
    byModule.set(module, (byModule.get(module) ?? 0) + micros)
  }
  return {
    wallMillis: (windows === undefined ? profile.endTime - profile.startTime : windowed) / 1000,
    busyMillis: busy / 1000,
    byFunction: shares(byFunction, busy, top),
    byModule: shares(byModule, busy, top),
    byFunctionTotal: shares(byFunctionTotal, busy, top),
  }
}

export const render = (summary: ProfileSummary): string => {
  const table = (title: string, rows: ReadonlyArray<Share>, what = "self") => [
    `| ${title} | ${what} ms | of busy |`,
    "| --- | --: | --: |",
    ...rows.map(
      (r) =>
        `| ${r.name.replaceAll("|", "\\|")} | ${r.millis.toFixed(0)} | ${(r.fraction * 100).toFixed(1)}% |`,
    ),
  ]
  return [
    `Profile: ${(summary.wallMillis / 1000).toFixed(1)} s wall, ${(summary.busyMillis / 1000).toFixed(1)} s busy.`,
    "",
    ...table("module", summary.byModule),
    "",
    ...table("function", summary.byFunction),
    "",
    ...table("function (with what it calls)", summary.byFunctionTotal, "total"),
    "",
  ].join("\n")
}
