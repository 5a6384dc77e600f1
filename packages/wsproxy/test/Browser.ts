/**
 * Debian's Chromium (tools/browser/install.sh installs it once) driven headless by
 * playwright-core; closed with the scope, so no browser outlives its test.
 */
import { execFile } from "node:child_process"
import { Effect, type Scope } from "effect"
import { type Browser, chromium } from "playwright-core"

const installScript = new URL("../../../tools/browser/install.sh", import.meta.url).pathname

const executable = Effect.async<string, string>((resume) => {
  execFile(installScript, { timeout: 600_000 }, (error, stdout, stderr) =>
    resume(error === null ? Effect.succeed(stdout.trim()) : Effect.fail(`${error.message}\n${stderr}`)),
  )
})

export const launch: Effect.Effect<Browser, unknown, Scope.Scope> = Effect.acquireRelease(
  Effect.flatMap(executable, (executablePath) =>
    Effect.tryPromise(() =>
      chromium.launch({
        executablePath,
        headless: true,
        // Root in a VM: no user namespaces for Chromium's sandbox; no GPU.
        args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
      }),
    ),
  ),
  (browser) => Effect.promise(() => browser.close()),
)
