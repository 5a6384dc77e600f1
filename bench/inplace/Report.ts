import type { HostInfo } from "../support/Host.ts"
import { hostLine } from "../support/Host.ts"
import { failureText, type LoadResult } from "../support/LoadLoop.ts"
import { summarize } from "../support/Stats.ts"
import type { InPlaceBenchOptions } from "./Options.ts"

export interface ImageRow {
  readonly way: string
  readonly concurrency: number
  readonly result: LoadResult
}

export interface ChurnRow {
  readonly policy: "InPlace" | "Delete"
  /** Each operation: one allocation and its release. */
  readonly cycles: LoadResult
  /** Milliseconds of each allocation alone. */
  readonly allocations: ReadonlyArray<number>
  readonly creates: number
  readonly deletes: number
}

const ms = (value: number) => (Number.isNaN(value) ? "–" : value.toFixed(0))
const perThousand = (count: number, requests: number) =>
  requests > 0 ? (count * 1000) / requests : Number.NaN

export const render = (input: {
  readonly host: HostInfo
  readonly code: string
  readonly options: InPlaceBenchOptions
  readonly imageRows: ReadonlyArray<ImageRow>
  readonly churnRows: ReadonlyArray<ChurnRow>
}): string => {
  const { options } = input
  const lines: Array<string> = []
  lines.push("# In place vs recreate", "")
  lines.push(`- host: ${hostLine(input.host)}`)
  lines.push(`- code: ${input.code}`)
  lines.push(
    `- simulated kubelet (KWOK): image pull+start on a running Pod ${options.pullMillis} ms; new Pod scheduled → Running+Ready ${options.coldMillis} ms`,
    "",
  )
  lines.push("## Time to serve a new image", "")
  lines.push("| way | c | served | p50 ms | p95 ms | max ms | failures |")
  lines.push("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
  for (const row of input.imageRows) {
    const s = summarize(row.result.latencies)
    lines.push(
      `| ${row.way} | ${row.concurrency} | ${s.count} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.max)} | ${failureText(row.result)} |`,
    )
  }
  lines.push(
    "",
    "In place the reply comes once the Pod's status shows the new image Ready (a full REST allocation: " +
      "claim + swap in one conditional write, then the watch); the fresh Pod is timed from its create to " +
      "a watch seeing it Running+Ready, without any operator or HTTP in the way.",
    "",
  )
  lines.push(`## Pod churn per ${options.requests.toLocaleString("en")} requests (allocate + release)`, "")
  lines.push(
    `Closed loop, c=${options.concurrency}, warm target ${options.replicas}; Pods counted by a watch until the pool is back at its target and quiet.`,
    "",
  )
  lines.push(
    "| recyclePolicy | cycles | Pod creates | Pod deletes | creates / 1k | deletes / 1k | cycles/s | allocation p50 ms | p95 ms | failures |",
  )
  lines.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
  for (const row of input.churnRows) {
    const done = row.cycles.latencies.length
    const alloc = summarize(row.allocations)
    const rate = row.cycles.seconds > 0 ? done / row.cycles.seconds : Number.NaN
    lines.push(
      `| ${row.policy} | ${done} | ${row.creates} | ${row.deletes} | ${perThousand(row.creates, done).toFixed(1)} | ${perThousand(row.deletes, done).toFixed(1)} | ${rate.toFixed(1)} | ${ms(alloc.p50)} | ${ms(alloc.p95)} | ${failureText(row.cycles)} |`,
    )
  }
  lines.push(
    "",
    "InPlace Pods still come and go while the warm target is kept: an allocation takes an idle Pod, so " +
      "the pool makes a replacement, and once the recycled Pods are back the surplus is trimmed. Delete " +
      "replaces every released Pod.",
    "",
  )
  return `${lines.join("\n")}\n`
}
