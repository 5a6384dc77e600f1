/**
 * npm run bench:profile -- <file.cpuprofile | directory> [--window=HH:MM:SS-HH:MM:SS,...] — where a
 * V8 CPU profile spent its time, by module and by function (self time), as Markdown. For the
 * operator's profile that `bench:allocation --cpu-prof` or `bench:peers --cpu-prof` leave in their run
 * directory. `--window` keeps only the samples taken within those UTC times of the profile's day (a
 * benchmark's claim rounds, from the times its log prints), leaving out start-up and the pool's fill.
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { type CpuProfile, render, summarize, type Window } from "../support/CpuProfile.ts"

const args = process.argv.slice(2)
const target = args.find((arg) => !arg.startsWith("--"))
const windowArg = args.find((arg) => arg.startsWith("--window="))?.slice("--window=".length)
// A profile's clock is the system's monotonic clock (as process.hrtime), in microseconds: the
// difference to the wall clock now maps the UTC times given to it (same boot).
const wallMinusMonotonic = Date.now() * 1000 - Number(process.hrtime.bigint() / 1000n)
const windowsOf = (profile: CpuProfile): ReadonlyArray<Window> | undefined => {
  if (windowArg === undefined) return undefined
  const day = new Date((profile.startTime + wallMinusMonotonic) / 1000).toISOString().slice(0, 10)
  const micros = (time: string) => {
    const wall = Date.parse(`${day}T${time}Z`)
    if (Number.isNaN(wall)) {
      process.stderr.write(`--window: ${time} is not HH:MM:SS\n`)
      process.exit(2)
    }
    return wall * 1000 - wallMinusMonotonic
  }
  return windowArg.split(",").map((range): Window => {
    const [from = "", to = ""] = range.split("-")
    return [micros(from), micros(to)]
  })
}
if (target === undefined) {
  process.stderr.write(
    "usage: npm run bench:profile -- <file.cpuprofile | directory of them> [--window=HH:MM:SS-HH:MM:SS,...]\n",
  )
  process.exit(2)
}
const files = statSync(target).isDirectory()
  ? readdirSync(target)
      .filter((f) => f.endsWith(".cpuprofile"))
      .map((f) => join(target, f))
  : [target]
if (files.length === 0) {
  process.stderr.write(`no .cpuprofile in ${target}\n`)
  process.exit(1)
}
for (const file of files) {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile
  process.stdout.write(`### ${file}\n\n${render(summarize(profile, 25, windowsOf(profile)))}\n`)
}
