#!/usr/bin/env node
// The `agent-sandbox` CLI: `agent-sandbox --help`, `agent-sandbox --completions bash`.
import { ValidationError } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Effect } from "effect"
import packageJson from "../package.json" with { type: "json" }
import { fromFailure } from "./ClientErrors.ts"
import * as Cli from "./cli/Cli.ts"

Cli.run(packageJson.version)(process.argv).pipe(
  Effect.catchAll((error) => {
    // @effect/cli has printed the usage problem already.
    if (ValidationError.isValidationError(error)) return Effect.sync(() => (process.exitCode = 2))
    if (error instanceof Cli.CommandExitCode) return Effect.sync(() => (process.exitCode = error.exitCode))
    const failure = fromFailure(error)
    return Console.error(`agent-sandbox: ${failure.name} (${failure.tag}): ${failure.message}`).pipe(
      Effect.zipRight(Effect.sync(() => (process.exitCode = 1))),
    )
  }),
  Effect.catchAllDefect((defect) => Console.error(`agent-sandbox: ${Cause.pretty(Cause.die(defect))}`)),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({ disableErrorReporting: true }),
)
