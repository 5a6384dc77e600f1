/**
 * The real JS SDK (npm e2b 2.51, unchanged) against the handler: a Sandbox object built as
 * the SDK builds it after create/connect (envdVersion, access token, E2B_SANDBOX_URL-style
 * sandboxUrl), so every call below takes the SDK's own data-plane paths.
 */
import { randomBytes } from "node:crypto"
import { assert, layer } from "@effect/vitest"
import { CommandExitError, FileType, Sandbox } from "e2b"
import { Effect } from "effect"
import { envdVersion } from "../src/EnvdVersion.ts"
import { accessToken, EnvdServer, layer as envdLayer, sandboxId } from "./EnvdCluster.ts"

const sandboxAt = (url: string): Sandbox =>
  new (Sandbox as unknown as new (options: object) => Sandbox)({
    sandboxId,
    envdVersion,
    envdAccessToken: accessToken,
    sandboxUrl: url,
    apiKey: "e2b_0000",
  })

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

layer(envdLayer("envd-sdk"), { timeout: "3 minutes", excludeTestServices: true })("the e2b JS SDK", (it) => {
  it.effect("commands.run: output, exit codes, envs and cwd", () =>
    Effect.gen(function* () {
      const { url, home } = yield* EnvdServer
      const sandbox = sandboxAt(url)
      const result = yield* promise(() => sandbox.commands.run("echo hello; echo oops >&2"))
      assert.deepInclude(result, { exitCode: 0, stdout: "hello\n", stderr: "oops\n" })

      const failed = yield* promise(() =>
        sandbox.commands.run("exit 7").then(
          () => undefined,
          (error) => error,
        ),
      )
      assert.instanceOf(failed, CommandExitError)
      assert.strictEqual((failed as CommandExitError).exitCode, 7)

      const withEnv = yield* promise(() =>
        sandbox.commands.run('printf "%s %s" "$GREETING" "$(pwd)"', {
          envs: { GREETING: "hi there" },
          cwd: home,
        }),
      )
      assert.strictEqual(withEnv.stdout, `hi there ${home}`)
    }),
  )

  it.effect("background commands: list, stdin, kill", () =>
    Effect.gen(function* () {
      const { url } = yield* EnvdServer
      const sandbox = sandboxAt(url)
      const sleeper = yield* promise(() => sandbox.commands.run("sleep 600", { background: true }))
      const listed = yield* promise(() => sandbox.commands.list())
      assert.isTrue(listed.some((p) => p.pid === sleeper.pid))
      assert.isTrue(yield* promise(() => sandbox.commands.kill(sleeper.pid)))
      const ended = yield* promise(() =>
        sleeper.wait().then(
          () => undefined,
          (error) => error,
        ),
      )
      assert.instanceOf(ended, CommandExitError)
      assert.isFalse(yield* promise(() => sandbox.commands.kill(sleeper.pid)))

      const reader = yield* promise(() =>
        sandbox.commands.run("read line; echo got:$line", { background: true, stdin: true }),
      )
      yield* promise(() => reader.sendStdin("typed\n"))
      const read = yield* promise(() => reader.wait())
      assert.strictEqual(read.stdout, "got:typed\n")

      // Closing stdin ends the input for good. (KWOK's exec does not pass the end of input on
      // to the process, so the command's side of it is not observable here.)
      const closing = yield* promise(() =>
        sandbox.commands.run("sleep 600", { background: true, stdin: true }),
      )
      yield* promise(() => closing.closeStdin())
      const afterClose = yield* promise(() =>
        closing.sendStdin("late\n").then(
          () => undefined,
          (error) => error,
        ),
      )
      assert.include((afterClose as Error).message, "stdin not enabled or closed")
      yield* promise(() => closing.kill())
    }),
  )

  it.effect("files: write, read (10 MB bytes too), exists, makeDir, list, rename, remove", () =>
    Effect.gen(function* () {
      const { url, home } = yield* EnvdServer
      const sandbox = sandboxAt(url)
      const info = yield* promise(() => sandbox.files.write(`${home}/sdk/hello.txt`, "hello from the sdk"))
      assert.deepStrictEqual(
        [info.path, info.name, info.type],
        [`${home}/sdk/hello.txt`, "hello.txt", FileType.FILE],
      )
      assert.strictEqual(
        yield* promise(() => sandbox.files.read(`${home}/sdk/hello.txt`)),
        "hello from the sdk",
      )

      const big = randomBytes(10 * 1024 * 1024)
      // Raw application/octet-stream upload (envd >= 0.5.7).
      yield* promise(() =>
        sandbox.files.write(`${home}/sdk/big.bin`, new Uint8Array(big).buffer, { useOctetStream: true }),
      )
      const back = yield* promise(() => sandbox.files.read(`${home}/sdk/big.bin`, { format: "bytes" }))
      assert.isTrue(Buffer.from(back).equals(big))

      assert.isFalse(yield* promise(() => sandbox.files.exists(`${home}/sdk/missing`)))
      assert.isTrue(yield* promise(() => sandbox.files.exists(`${home}/sdk/hello.txt`)))
      assert.isTrue(yield* promise(() => sandbox.files.makeDir(`${home}/sdk/dir/inner`)))
      assert.isFalse(yield* promise(() => sandbox.files.makeDir(`${home}/sdk/dir/inner`)))

      const entries = yield* promise(() => sandbox.files.list(`${home}/sdk`, { depth: 2 }))
      assert.includeMembers(
        entries.map((e) => `${e.type}:${e.name}`),
        ["file:hello.txt", "file:big.bin", "dir:dir", "dir:inner"],
      )
      const renamed = yield* promise(() =>
        sandbox.files.rename(`${home}/sdk/hello.txt`, `${home}/sdk/dir/hi.txt`),
      )
      assert.strictEqual(renamed.path, `${home}/sdk/dir/hi.txt`)
      const stat = yield* promise(() => sandbox.files.getInfo(`${home}/sdk/dir/hi.txt`))
      assert.strictEqual(stat.size, "hello from the sdk".length)
      yield* promise(() => sandbox.files.remove(`${home}/sdk`))
      assert.isFalse(yield* promise(() => sandbox.files.exists(`${home}/sdk`)))
      const missingRead = yield* promise(() =>
        sandbox.files.read(`${home}/sdk/none`).then(
          () => undefined,
          (e) => e,
        ),
      )
      assert.strictEqual((missingRead as Error).name, "FileNotFoundError")
    }),
  )

  it.effect("files.watchDir reports a created file", () =>
    Effect.gen(function* () {
      const { url, home } = yield* EnvdServer
      const sandbox = sandboxAt(url)
      yield* promise(() => sandbox.files.makeDir(`${home}/watch`))
      const seen: Array<string> = []
      const handle = yield* promise(() =>
        sandbox.files.watchDir(`${home}/watch`, (event) => {
          seen.push(`${event.type}:${event.name}`)
        }),
      )
      yield* promise(() => sandbox.files.write(`${home}/watch/a.txt`, "a"))
      for (let i = 0; i < 100 && !seen.includes("create:a.txt"); i++) yield* Effect.sleep("100 millis")
      yield* promise(() => handle.stop())
      assert.include(seen, "create:a.txt")
    }),
  )

  it.effect("pty: create, type, resize, kill", () =>
    Effect.gen(function* () {
      const { url } = yield* EnvdServer
      const sandbox = sandboxAt(url)
      let output = ""
      const terminal = yield* promise(() =>
        sandbox.pty.create({
          cols: 80,
          rows: 24,
          onData: (data) => {
            output += new TextDecoder().decode(data)
          },
        }),
      )
      yield* promise(() =>
        sandbox.pty.sendInput(terminal.pid, new TextEncoder().encode("echo $((6 * 7))x\n")),
      )
      for (let i = 0; i < 100 && !output.includes("42x"); i++) yield* Effect.sleep("100 millis")
      assert.include(output, "42x")
      yield* promise(() => sandbox.pty.resize(terminal.pid, { cols: 120, rows: 40 }))
      assert.isTrue(yield* promise(() => terminal.kill()))
    }),
  )
})
