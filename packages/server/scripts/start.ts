// `npm start` (README, `./dev start`): the demo (demo.ts: the operator and its API with a demo
// template and pool) the way the operator ships: bundled into dist/demo.mjs, which applies the
// node settings of NodeSettings.ts, and run in this same process (execve). Running its ~1,000 .ts
// modules through type stripping instead costs ≈ 200 MiB of RSS more (docs/benchmarks.md).
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { setTimeout as sleep } from "node:timers/promises"
import * as esbuild from "esbuild"
import { bundle } from "./bundle.ts"

/** Children of this process not reaped yet (Linux; elsewhere none are known). */
const hasChildren = (): boolean => {
  try {
    return readFileSync(`/proc/self/task/${process.pid}/children`, "utf8").trim() !== ""
  } catch {
    return false
  }
}

const demo = join(import.meta.dirname, "demo.ts")
const out = await bundle(demo, join(import.meta.dirname, "../../../dist/demo.mjs"), { pinSourcePaths: true })
// esbuild's service process is our child: let it exit and be reaped first, or it would stay a
// zombie under the demo.
await esbuild.stop()
for (let i = 0; i < 100 && hasChildren(); i++) await sleep(20)
// The bundle applies the node settings itself as it starts (NodeSettings.relaunchBanner).
if (process.execve !== undefined)
  process.execve(
    process.execPath,
    [process.execPath, ...process.execArgv, out, ...process.argv.slice(2)],
    process.env,
  )
// No execve here (Windows): the demo from its sources, with node's defaults.
else await import(demo)
