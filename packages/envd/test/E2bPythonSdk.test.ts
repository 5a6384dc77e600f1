/**
 * The real Python SDK (PyPI e2b 2.63, unchanged) against the handler: HTTP/1.1 on plain HTTP,
 * the JSON codec, and the sync SDK's polling watcher. The script prints what it saw.
 */
import { execFile } from "node:child_process"
import { join } from "node:path"
import { promisify } from "node:util"
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { envdVersion } from "../src/EnvdVersion.ts"
import { accessToken, EnvdServer, layer as envdLayer, sandboxId } from "./EnvdCluster.ts"
import { pythonWithSdk } from "./PythonSdk.ts"

const run = promisify(execFile)

layer(envdLayer("envd-pysdk"), { timeout: "5 minutes", excludeTestServices: true })(
  "the e2b Python SDK",
  (it) => {
    it.effect(
      "commands, stdin, kill, files (10 MB), polling watcher",
      () =>
        Effect.gen(function* () {
          const { url, home } = yield* EnvdServer
          const python = yield* Effect.promise(() => pythonWithSdk())
          // Asynchronously: the handler serving the script runs in this process.
          const { stdout } = yield* Effect.promise(() =>
            run(
              python,
              [join(import.meta.dirname, "python/e2b_sdk_check.py"), url, sandboxId, accessToken, home],
              {
                env: { ...process.env, ENVD_VERSION: envdVersion },
                maxBuffer: 16 * 1024 * 1024,
                timeout: 180_000,
              },
            ),
          )
          const { watch, ...seen } = JSON.parse(stdout)
          // Polling may see the new file before or after its content arrives.
          assert.include(watch, "CREATE:new.txt")
          assert.deepStrictEqual(seen, {
            run: [0, "hello\n", "err\n"],
            exit_code: 4,
            env_cwd: `y z ${home}`,
            listed: true,
            killed: [true, false],
            stdin: "got:hi\n",
            write: [`${home}/py/a.txt`, "a.txt", "FILE"],
            read: "from python",
            big_equal: true,
            exists: [true, false],
            make_dir: [true, false],
            list: ["a.txt", "big.bin", "d"],
            read_missing: "FileNotFoundException",
            removed: true,
          })
        }),
      300_000,
    )
  },
)
