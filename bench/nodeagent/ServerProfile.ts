/**
 * A V8 CPU profile of this process (the E2B server and the operator) over chosen stretches only
 * (bench:nodeagent's agent-path loads), through node:inspector: each stretch is a profile of its
 * own, written to the directory, and the report sums their self time per module and per function.
 * Without a directory it records nothing and reports nothing.
 */
import { writeFileSync } from "node:fs"
import { Session } from "node:inspector/promises"
import { join } from "node:path"
import { Effect } from "effect"
import * as CpuProfile from "../support/CpuProfile.ts"

export interface ServerProfile {
  readonly resume: Effect.Effect<void>
  readonly pause: Effect.Effect<void>
  /** Markdown lines: the stretches' time by module and by function (none without a directory). */
  readonly report: Effect.Effect<ReadonlyArray<string>>
}

const sum = (into: Map<string, number>, shares: ReadonlyArray<CpuProfile.Share>) => {
  for (const share of shares) into.set(share.name, (into.get(share.name) ?? 0) + share.millis)
}

const table = (title: string, totals: ReadonlyMap<string, number>, busy: number, top: number) => [
  `| ${title} | self ms | of busy |`,
  "| --- | --: | --: |",
  ...[...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(
      ([name, millis]) =>
        `| ${name.replaceAll("|", "\\|")} | ${millis.toFixed(0)} | ${((millis / busy) * 100).toFixed(1)}% |`,
    ),
]

export const make = (dir: string): Effect.Effect<ServerProfile> =>
  Effect.sync(() => {
    if (dir === "") return { resume: Effect.void, pause: Effect.void, report: Effect.succeed([]) }
    const session = new Session()
    session.connect()
    const summaries: Array<CpuProfile.ProfileSummary> = []
    return {
      resume: Effect.promise(async () => {
        await session.post("Profiler.enable")
        await session.post("Profiler.start")
      }),
      pause: Effect.promise(async () => {
        const { profile } = await session.post("Profiler.stop")
        writeFileSync(join(dir, `server-agent-${summaries.length + 1}.cpuprofile`), JSON.stringify(profile))
        summaries.push(CpuProfile.summarize(profile as unknown as CpuProfile.CpuProfile, 10_000))
      }),
      report: Effect.sync(() => {
        const busy = summaries.reduce((n, s) => n + s.busyMillis, 0)
        const byModule = new Map<string, number>()
        const byFunction = new Map<string, number>()
        for (const s of summaries) {
          sum(byModule, s.byModule)
          sum(byFunction, s.byFunction)
        }
        return [
          "",
          `The E2B server process over the agent path's loads (V8 profile, ${(busy / 1000).toFixed(1)} s busy):`,
          "",
          ...table("module", byModule, busy, 15),
          "",
          ...table("function", byFunction, busy, 25),
        ]
      }),
    }
  })
