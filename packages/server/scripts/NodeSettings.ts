// How the operator's node process runs, wherever it is started from: `npm start` and the built
// artifact (`npm run build` → dist/operator.mjs) both apply these. Each was measured one at a time
// with 5,000 Pods watched (bench:rss and runs like it; docs/benchmarks.md) and is kept because it
// cut RSS:
//
// - --max-semi-space-size=16: V8 otherwise grows the young generation to 2 × 64 MiB on a host with
//   this much memory (≈ 100 MiB of RSS more once 5,000 Pods were listed).
// - --heap-growing-percent=50: the old generation is collected again once it is 1.5× what survived
//   the last full GC, instead of up to 4× on a big host; a burst (filling a pool, listing every Pod)
//   otherwise leaves ≈ 100 MiB of fragmented old-space pages that V8 keeps. It costs more full GCs
//   (mostly concurrent marking), not measurable CPU per allocation.
// - MALLOC_ARENA_MAX=2: glibc gives every thread that mallocs an arena of its own and keeps what
//   was freed in it (V8's compiler and GC threads, loading the bundle); two arenas in all hold
//   10–25 MiB less.
//
// Not taken: --memory-saver-mode (≈ 50 MiB less, but a full GC every few allocations: ≈ 3× the
// operator's CPU per allocation), --optimize-for-size (≈ 40 MiB less, 12× the young-generation
// GCs; left out to keep allocation latency first), --compact-on-every-full-gc (no less RSS).

/** V8 flags, ahead of any the caller gives node (a later flag wins). */
export const nodeFlags: ReadonlyArray<string> = ["--max-semi-space-size=16", "--heap-growing-percent=50"]

/** Environment the process must start with (glibc reads it once); the caller's own values win. */
export const environment: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: "2" }

/** Set in the relaunched process, so it does not relaunch again; set it yourself to run node as started. */
export const appliedMarker = "AGENT_SANDBOX_NODE_SETTINGS"

/**
 * Code for the top of a bundle: before anything else runs, node re-executes itself
 * (process.execve: the same process id, nothing kept of the first start) with the settings, unless
 * they are applied already or the platform cannot (no execve).
 */
export const relaunchBanner = (): string =>
  [
    `if (process.env.${appliedMarker} === undefined && typeof process.execve === "function") {`,
    `  process.execve(process.execPath, [process.execPath, ...${JSON.stringify(nodeFlags)}, ...process.execArgv, import.meta.filename, ...process.argv.slice(2)],`,
    `    { ...${JSON.stringify(environment)}, ...process.env, ${appliedMarker}: "applied" })`,
    "}",
  ].join("\n")
