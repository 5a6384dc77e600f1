/**
 * npm run bench:profile -- <file.cpuprofile | directory> — where a V8 CPU profile spent its time,
 * by module and by function (self time), as Markdown. For the operator's profile that
 * `bench:allocation --cpu-prof` or `bench:peers --cpu-prof` leave in their run directory.
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { type CpuProfile, render, summarize } from "../support/CpuProfile.ts"

const target = process.argv[2]
if (target === undefined) {
  process.stderr.write("usage: npm run bench:profile -- <file.cpuprofile | directory of them>\n")
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
  process.stdout.write(`### ${file}\n\n${render(summarize(profile))}\n`)
}
