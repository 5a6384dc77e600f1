/**
 * The second part of bench:metrics: what the Prometheus instruments add to one claim, and what one
 * scrape costs, measured in this process (no cluster): rounds alternate an allocation-shaped Effect
 * with and without the instruments a claim records (OperatorMetrics.timeAllocation; a release's
 * counter), so drift falls on both alike.
 */
import { OperatorMetrics } from "@agent-sandbox/operator"
import { Effect } from "effect"

const rounds = 10
const perRound = 20_000
const pools = 100

const claim = Effect.succeed({ sandboxId: "x" })
const request = (i: number) => ({ namespace: "bench", pool: `pool-${i % pools}` })

const timeRound = (instrumented: boolean) =>
  Effect.gen(function* () {
    const start = performance.now()
    for (let i = 0; i < perRound; i++) {
      const r = request(i)
      if (instrumented) {
        yield* OperatorMetrics.timeAllocation(r, claim)
        OperatorMetrics.releases.inc(r)
      } else yield* claim
    }
    return ((performance.now() - start) * 1e6) / perRound // ns per claim
  })

const percentile = (values: ReadonlyArray<number>, p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}

export const instrumentCost = Effect.gen(function* () {
  yield* timeRound(true) // warm up the JIT and create every labelled series
  yield* timeRound(false)
  const bare: Array<number> = []
  const instrumented: Array<number> = []
  for (let r = 0; r < rounds; r++) {
    bare.push(yield* timeRound(false))
    instrumented.push(yield* timeRound(true))
  }
  const scrapes: Array<number> = []
  let bytes = 0
  for (let s = 0; s < 20; s++) {
    const start = performance.now()
    bytes = (yield* Effect.promise(() => OperatorMetrics.registry.metrics())).length
    scrapes.push(performance.now() - start)
  }
  const row = (name: string, v: ReadonlyArray<number>) =>
    `| ${name} | ${percentile(v, 50).toFixed(0)} | ${percentile(v, 90).toFixed(0)} |`
  const added = bare.map((b, i) => (instrumented[i] ?? b) - b)
  return [
    `metrics cost per claim (${rounds} alternating rounds of ${perRound} claims over ${pools} pools, node ${process.version})`,
    "",
    "| path | p50 ns/claim | p90 ns/claim |",
    "| --- | --- | --- |",
    row("bare Effect (no instruments)", bare),
    row("with allocation histogram + release counter", instrumented),
    row("added by the instruments", added),
    "",
    `one scrape (render of ${pools} pools' series, ${bytes} bytes): p50 ${percentile(scrapes, 50).toFixed(2)} ms, p90 ${percentile(scrapes, 90).toFixed(2)} ms`,
  ].join("\n")
})
