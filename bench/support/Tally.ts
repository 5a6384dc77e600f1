import { Effect } from "effect"
import { type RequestCounts, requestCounts, requestsBetween } from "./ApiServerMetrics.ts"
import type { LoadResult } from "./LoadLoop.ts"
import { cpuBetween, cpuSnapshot, type NamedProcess, perOperation } from "./ProcessStats.ts"

/**
 * What one path of a benchmark level adds up over its rounds: the loads, the CPU each process
 * spent while they ran, and the API requests the API server counted meanwhile.
 */
export interface Tally {
  readonly loads: Array<LoadResult>
  readonly cpu: Map<string, number>
  readonly requests: Map<string, number>
}

export const make = (): Tally => ({ loads: [], cpu: new Map(), requests: new Map() })

const add = (into: Map<string, number>, key: string, n: number) => into.set(key, (into.get(key) ?? 0) + n)

/** Runs one round of the path and adds it to the tally; the round's own value is returned. */
export const measure = <A extends { readonly result: LoadResult }, E, R>(
  tally: Tally,
  processes: ReadonlyArray<NamedProcess>,
  round: Effect.Effect<A, E, R>,
) =>
  Effect.gen(function* () {
    const requests0: RequestCounts = yield* requestCounts
    const cpu0 = cpuSnapshot(processes)
    const value = yield* round
    for (const [name, millis] of cpuBetween(cpu0, cpuSnapshot(processes))) add(tally.cpu, name, millis)
    for (const [key, n] of yield* requestCounts) add(tally.requests, key, n - (requests0.get(key) ?? 0))
    tally.loads.push(value.result)
    return value
  })

const succeeded = (tally: Tally) => tally.loads.reduce((n, load) => n + load.latencies.length, 0)

/** CPU milliseconds per successful operation, by process, over every round. */
export const cpuPerOperation = (tally: Tally) => perOperation(tally.cpu, succeeded(tally))

/** API requests per successful operation, over every round. */
export const requestsPerOperation = (tally: Tally) =>
  requestsBetween(new Map(), tally.requests, succeeded(tally))
