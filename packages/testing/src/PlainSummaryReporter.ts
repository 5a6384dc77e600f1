import type { Reporter, TestModule } from "vitest/node"

// Vitest's own summary is coloured and laid out for people; CI reads the closing line of a run
// to tell a run that executed tests from one that did not. This reporter ends the run with the
// plain line "vitest: N passed, N failed, N skipped" alone on a line, and counts unhandled
// errors as failures so the line cannot read green when the run was not.
// The counts are taken when the run ends and printed in onFinished, the hook in which vitest's
// default reporter prints its summary, so this line comes after it; nothing may print after it
// (the global setup's teardown is silent for that reason).
export default class PlainSummaryReporter implements Reporter {
  private line = ""

  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>) {
    let passed = 0
    let failed = unhandledErrors.length
    let skipped = 0
    for (const module of testModules) {
      if (module.state() === "failed" && !module.children.size) failed++
      for (const test of module.children.allTests()) {
        const state = test.result().state
        if (state === "passed") passed++
        else if (state === "failed") failed++
        else skipped++
      }
    }
    this.line = `vitest: ${passed} passed, ${failed} failed, ${skipped} skipped`
  }

  onFinished() {
    if (this.line) process.stdout.write(`\n${this.line}\n`)
  }
}
