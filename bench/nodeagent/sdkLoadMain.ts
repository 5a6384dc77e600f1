/**
 * The SDK side of bench:nodeagent in a process of its own, so the CPU per command of the SDK and
 * of the E2B server show apart. Started by SdkLoadProcess with the SDK's environment (E2B_API_URL,
 * E2B_SANDBOX_URL, E2B_API_KEY) and the sandbox ids as arguments: it connects to each sandbox
 * (Sandbox.connect), says `{"ready":true}`, then reads one load per stdin line (`{"count",
 * "concurrency"}`), runs `commands.run("true")` over the sandboxes in turn and answers one JSON
 * line per load on stdout. Ends when stdin does.
 */
import { createInterface } from "node:readline"
import { Sandbox } from "e2b"
import { Duration, Effect } from "effect"
import { reasonOf } from "../e2b/SdkOperations.ts"
import { runLoad } from "../support/LoadLoop.ts"
import * as SdkLoadProcess from "./SdkLoadProcess.ts"

const sandboxes = await Promise.all(
  process.argv.slice(2).map((id) => Sandbox.connect(id, { timeoutMs: 1_800_000 })),
)
const answer = (line: SdkLoadProcess.Answer) => process.stdout.write(`${JSON.stringify(line)}\n`)
answer({ ready: true })
for await (const line of createInterface({ input: process.stdin })) {
  const load = SdkLoadProcess.decodeLoad(line)
  const result = await Effect.runPromise(
    runLoad({ count: load.count, concurrency: load.concurrency, timeLimit: Duration.minutes(5) }, (i) =>
      Effect.asVoid(
        Effect.tryPromise({
          try: () => sandboxes[i % sandboxes.length]!.commands.run("true"),
          catch: reasonOf,
        }),
      ),
    ),
  )
  answer({
    latencies: result.latencies,
    failures: [...result.failures],
    attempted: result.attempted,
    seconds: result.seconds,
  })
}
