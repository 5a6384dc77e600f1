/**
 * What each version of the JS SDK (npm e2b, unchanged) must do against the server. Every case
 * is an ordinary async SDK program; the SDK finds the server through E2B_API_URL,
 * E2B_SANDBOX_URL and E2B_API_KEY only.
 */
import { createHash, randomBytes } from "node:crypto"
import { assert } from "@effect/vitest"
import type * as E2b from "e2b"

/** The SDK's module; the older version is used through the newest one's types (same calls). */
export type E2bSdk = typeof E2b
type Sandbox = InstanceType<E2bSdk["Sandbox"]>

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

const until = async (check: () => Promise<boolean>, what: string, timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  )

/** A fresh sandbox for one case, killed afterwards whatever happens. */
const withSandbox = async <A>(
  sdk: E2bSdk,
  opts: Parameters<E2bSdk["Sandbox"]["create"]>[1],
  use: (sandbox: Sandbox, home: string) => Promise<A>,
): Promise<A> => {
  const sandbox = await sdk.Sandbox.create("base", opts)
  try {
    const home = (await sandbox.commands.run('printf "%s" "$HOME"')).stdout
    return await use(sandbox, home)
  } finally {
    await sandbox.kill()
  }
}

export const commands = (sdk: E2bSdk) =>
  withSandbox(sdk, { timeoutMs: 300_000 }, async (sandbox, home) => {
    const run = await sandbox.commands.run("echo out; echo err >&2")
    assert.deepStrictEqual([run.exitCode, run.stdout, run.stderr], [0, "out\n", "err\n"])

    const failed = await rejection(sandbox.commands.run("echo partial; exit 3"))
    assert.instanceOf(failed, sdk.CommandExitError)
    assert.strictEqual((failed as InstanceType<E2bSdk["CommandExitError"]>).exitCode, 3)
    assert.strictEqual((failed as InstanceType<E2bSdk["CommandExitError"]>).stdout, "partial\n")

    await sandbox.files.makeDir(`${home}/work`)
    const envCwd = await sandbox.commands.run('printf "%s|%s" "$X" "$(pwd)"', {
      envs: { X: "per command" },
      cwd: `${home}/work`,
    })
    assert.strictEqual(envCwd.stdout, `per command|${home}/work`)

    const reader = await sandbox.commands.run("read line; echo got:$line", {
      background: true,
      stdin: true,
    })
    await sandbox.commands.sendStdin(reader.pid, "hi\n")
    assert.strictEqual((await reader.wait()).stdout, "got:hi\n")

    const sleeper = await sandbox.commands.run("sleep 600", { background: true })
    assert.isTrue((await sandbox.commands.list()).some((p) => p.pid === sleeper.pid))
    assert.isTrue(await sandbox.commands.kill(sleeper.pid))
    await rejection(sleeper.wait())
    await until(
      async () => !(await sandbox.commands.list()).some((p) => p.pid === sleeper.pid),
      "the killed command to leave the list",
    )
    assert.isFalse(await sandbox.commands.kill(sleeper.pid))
  })

/** The sandbox's envVars (given at create) reach every command; a command's own envs win. */
export const envVars = (sdk: E2bSdk) =>
  withSandbox(sdk, { envs: { GREETING: "from envVars", SHADOWED: "sandbox" } }, async (sandbox) => {
    const run = await sandbox.commands.run('printf "%s|%s" "$GREETING" "$SHADOWED"', {
      envs: { SHADOWED: "command" },
    })
    assert.strictEqual(run.stdout, "from envVars|command")
    const background = await sandbox.commands.run('printf "%s" "$GREETING"', { background: true })
    assert.strictEqual((await background.wait()).stdout, "from envVars")
  })

/** templateID `pool:runtime` runs that runtime's image, with the runtime's env in every command. */
export const runtime = async (sdk: E2bSdk) => {
  const sandbox = await sdk.Sandbox.create("base:py", { envs: { GREETING: "hi" } })
  try {
    const run = await sandbox.commands.run('printf "%s|%s" "$RUNTIME_FLAVOR" "$GREETING"')
    assert.strictEqual(run.stdout, "py|hi")
  } finally {
    await sandbox.kill()
  }
}

export const files = (sdk: E2bSdk) =>
  withSandbox(sdk, { timeoutMs: 300_000 }, async (sandbox, home) => {
    const dir = `${home}/files`
    const written = await sandbox.files.write(`${dir}/a.txt`, "hello text")
    assert.strictEqual(written.name, "a.txt")
    assert.strictEqual(written.path, `${dir}/a.txt`)
    assert.strictEqual(await sandbox.files.read(`${dir}/a.txt`), "hello text")

    const binary = Uint8Array.from([0, 255, 1, 254, 10, 13, 0])
    await sandbox.files.write(`${dir}/b.bin`, binary.slice().buffer)
    assert.deepStrictEqual(await sandbox.files.read(`${dir}/b.bin`, { format: "bytes" }), binary)

    const big = new Uint8Array(randomBytes(10 * 1024 * 1024))
    await sandbox.files.write(`${dir}/big.bin`, big.slice().buffer)
    const back = await sandbox.files.read(`${dir}/big.bin`, { format: "bytes" })
    assert.strictEqual(back.length, big.length)
    assert.strictEqual(sha256(back), sha256(big))

    const listed = await sandbox.files.list(dir)
    assert.deepStrictEqual(listed.map((e) => e.name).sort(), ["a.txt", "b.bin", "big.bin"])
    assert.strictEqual(listed.find((e) => e.name === "big.bin")?.type, "file")
    assert.isTrue(await sandbox.files.exists(`${dir}/a.txt`))
    assert.isFalse(await sandbox.files.exists(`${dir}/missing`))
    assert.isTrue(await sandbox.files.makeDir(`${dir}/sub`))
    assert.isFalse(await sandbox.files.makeDir(`${dir}/sub`))
    const moved = await sandbox.files.rename(`${dir}/a.txt`, `${dir}/sub/c.txt`)
    assert.strictEqual(moved.path, `${dir}/sub/c.txt`)
    assert.isFalse(await sandbox.files.exists(`${dir}/a.txt`))
    assert.strictEqual(await sandbox.files.read(`${dir}/sub/c.txt`), "hello text")
    await sandbox.files.remove(`${dir}/sub`)
    assert.isFalse(await sandbox.files.exists(`${dir}/sub/c.txt`))
    assert.instanceOf(await rejection(sandbox.files.read(`${dir}/sub/c.txt`)), sdk.NotFoundError)

    const events: Array<{ name: string; type: string }> = []
    const watch = await sandbox.files.watchDir(dir, (event) => {
      events.push({ name: event.name, type: event.type })
    })
    await sandbox.files.write(`${dir}/new.txt`, "x")
    await until(async () => events.some((e) => e.name === "new.txt" && e.type === "create"), "a create event")
    await watch.stop()

    // A path is data, never shell: quotes and $(...) make a file of that name and run nothing.
    const evil = `${dir}/q'";$(touch injected)\`touch injected2\``
    await sandbox.files.write(evil, "safe")
    assert.strictEqual(await sandbox.files.read(evil), "safe")
    assert.isTrue(await sandbox.files.exists(evil))
    const names = (await sandbox.files.list(dir)).map((e) => e.name)
    assert.include(names, `q'";$(touch injected)\`touch injected2\``)
    for (const place of [home, dir]) {
      assert.isFalse(await sandbox.files.exists(`${place}/injected`))
      assert.isFalse(await sandbox.files.exists(`${place}/injected2`))
    }
  })

export const pty = (sdk: E2bSdk) =>
  withSandbox(sdk, { timeoutMs: 300_000 }, async (sandbox) => {
    let output = ""
    const terminal = await sandbox.pty.create({
      cols: 80,
      rows: 24,
      onData: (data) => {
        output += new TextDecoder().decode(data)
      },
    })
    await sandbox.pty.resize(terminal.pid, { cols: 100, rows: 30 })
    const send = (line: string) => sandbox.pty.sendInput(terminal.pid, new TextEncoder().encode(`${line}\n`))
    await send("echo pty-$((6*7)); stty size")
    await until(async () => output.includes("pty-42") && output.includes("30 100"), "the terminal's output")
    await send("exit 0")
    const ended = await terminal.wait()
    assert.strictEqual(ended.exitCode, 0)
  })

export const lifecycle = async (sdk: E2bSdk) => {
  const suite = `s${randomBytes(6).toString("hex")}`
  const sandboxes = await Promise.all(
    [1, 2, 3].map((n) =>
      sdk.Sandbox.create("base", { metadata: { suite, n: String(n) }, timeoutMs: 120_000 }),
    ),
  )
  const [first, second, third] = sandboxes as [Sandbox, Sandbox, Sandbox]
  try {
    // List: the metadata filter, and pages of at most two.
    const paginator = sdk.Sandbox.list({ query: { metadata: { suite } }, limit: 2 })
    const seen: Array<string> = []
    let pages = 0
    while (paginator.hasNext) {
      const items = await paginator.nextItems()
      pages++
      assert.isAtMost(items.length, 2)
      for (const item of items) {
        assert.strictEqual(item.state, "running")
        assert.strictEqual(item.metadata.suite, suite)
        assert.strictEqual(item.templateId, "base")
        assert.instanceOf(item.startedAt, Date)
        seen.push(item.sandboxId)
      }
    }
    assert.strictEqual(pages, 2)
    assert.sameMembers(
      seen,
      sandboxes.map((s) => s.sandboxId),
    )
    const one = await sdk.Sandbox.list({ query: { metadata: { suite, n: "2" } } }).nextItems()
    assert.deepStrictEqual(
      one.map((s) => s.sandboxId),
      [second.sandboxId],
    )

    // A second client reaches the same sandbox by its id.
    const again = await sdk.Sandbox.connect(first.sandboxId)
    await first.files.write("shared.txt", "from the first client")
    assert.strictEqual(await again.files.read("shared.txt"), "from the first client")
    assert.strictEqual((await again.commands.run("echo connected")).stdout, "connected\n")
    const info = await sdk.Sandbox.getInfo(first.sandboxId)
    assert.strictEqual(info.templateId, "base")
    assert.strictEqual(info.state, "running")
    assert.deepStrictEqual(info.metadata, { suite, n: "1" })

    // Unsupported features fail clearly.
    const paused = await rejection(sdk.Sandbox.pause(first.sandboxId))
    assert.instanceOf(paused, sdk.SandboxError)
    assert.match(String((paused as Error).message), /501.*not supported/)

    // A short timeout ends the sandbox.
    await second.setTimeout(3_000)
    await until(async () => !(await second.isRunning()), "the sandbox to time out")
    assert.instanceOf(await rejection(sdk.Sandbox.getInfo(second.sandboxId)), sdk.NotFoundError)

    // Kill: true once, then false; the killed sandbox no longer runs.
    assert.isTrue(await sdk.Sandbox.kill(third.sandboxId))
    assert.isFalse(await sdk.Sandbox.kill(third.sandboxId))
    await first.kill()
    assert.isFalse(await first.isRunning())
  } finally {
    await Promise.all(sandboxes.map((s) => sdk.Sandbox.kill(s.sandboxId).catch(() => false)))
  }
}
