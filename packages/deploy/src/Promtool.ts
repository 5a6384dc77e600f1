import { join } from "node:path"
import { Effect } from "effect"
import { runProgram } from "./Program.ts"

const repoRoot = join(import.meta.dirname, "../../..")

/** promtool from Debian's prometheus package, unpacked into the cache by scripts/debian-packages.sh. */
export const promtoolPath = Effect.flatMap(
  runProgram(join(repoRoot, "scripts/debian-packages.sh"), ["prometheus"]),
  ({ code, stdout, stderr }) =>
    code === 0
      ? Effect.succeed(join(stdout.trim().split("\n").at(-1) ?? "", "root/usr/bin/promtool"))
      : Effect.fail(`scripts/debian-packages.sh prometheus: ${stderr.trim()}`),
)

/** `promtool check metrics` of an exposition text: its exit code and what it reported. */
export const checkMetrics = (exposition: string) =>
  Effect.flatMap(promtoolPath, (promtool) =>
    runProgram(promtool, ["check", "metrics"], process.env, exposition),
  )
