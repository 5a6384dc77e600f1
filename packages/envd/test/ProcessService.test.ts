import { randomBytes } from "node:crypto"
import { readFile } from "node:fs/promises"
import * as path from "node:path"
import type { MessageInitShape } from "@bufbuild/protobuf"
import { ConnectError } from "@connectrpc/connect"
import { assert, layer } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { type ProcessEvent, Signal, type StreamInputRequestSchema } from "../src/gen/process/process_pb.ts"
import { EnvdServer, layer as envdLayer, processClient } from "./EnvdCluster.ts"

type Event = NonNullable<ProcessEvent["event"]>

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

interface Run {
  readonly pid: number
  readonly stdout: string
  readonly stderr: string
  readonly end: Extract<Event, { case: "end" }>["value"] | undefined
}

const collect = async (events: AsyncIterable<{ event?: ProcessEvent | undefined }>): Promise<Run> => {
  let pid = -1
  let stdout = ""
  let stderr = ""
  let end: Run["end"]
  for await (const { event } of events) {
    const e = event?.event
    if (e?.case === "start") pid = e.value.pid
    if (e?.case === "data" && e.value.output.case === "stdout") stdout += decode(e.value.output.value)
    if (e?.case === "data" && e.value.output.case === "stderr") stderr += decode(e.value.output.value)
    if (e?.case === "end") end = e.value
  }
  return { pid, stdout, stderr, end }
}

const bash = (
  script: string,
  extra: { readonly envs?: Record<string, string>; readonly cwd?: string } = {},
) => ({
  process: { cmd: "/bin/bash", args: ["-l", "-c", script], ...extra },
  stdin: false,
})

const errorOf = async (promise: Promise<unknown>): Promise<ConnectError> => {
  try {
    await promise
  } catch (error) {
    return ConnectError.from(error)
  }
  throw new Error("expected the call to fail")
}

layer(envdLayer("envd-process"), { timeout: "3 minutes", excludeTestServices: true })(
  "process.Process over exec",
  (it) => {
    it.effect("runs a command: start pid, stdout and stderr apart, exit code", () =>
      Effect.gen(function* () {
        const { url } = yield* EnvdServer
        const run = yield* Effect.promise(() =>
          collect(processClient(url).start(bash("echo out; echo err >&2; exit 3"))),
        )
        assert.isAbove(run.pid, 0)
        assert.strictEqual(run.stdout, "out\n")
        assert.strictEqual(run.stderr, "err\n")
        assert.deepInclude(run.end, {
          exitCode: 3,
          exited: true,
          status: "exit status 3",
          error: "exit status 3",
        })
      }),
    )

    it.effect("passes envs and cwd as data, never as shell code", () =>
      Effect.gen(function* () {
        const { url, home } = yield* EnvdServer
        const client = processClient(url)
        yield* Effect.promise(() => collect(client.start(bash("mkdir -p 'sub dir'"))))
        const hostile = "a b $(echo injected) `echo x` ; 'q' \"d\""
        const run = yield* Effect.promise(() =>
          collect(
            client.start(
              bash('printf "%s|%s" "$FOO" "$PWD"', { envs: { FOO: hostile }, cwd: `${home}/sub dir` }),
            ),
          ),
        )
        assert.strictEqual(run.stdout, `${hostile}|${home}/sub dir`)
        assert.strictEqual(run.end?.exitCode, 0)

        const missing = yield* Effect.promise(() =>
          errorOf(collect(client.start(bash("true", { cwd: "/no/such" })))),
        )
        assert.strictEqual(missing.code, 3) // invalid_argument
        const badName = yield* Effect.promise(() =>
          errorOf(collect(client.start(bash("true", { envs: { "A-B": "x" } })))),
        )
        assert.strictEqual(badName.code, 3)
      }),
    )

    it.effect("keeps env values out of the exec URL: the API server's audit log never sees them", () =>
      Effect.gen(function* () {
        const { url, target } = yield* EnvdServer
        const client = processClient(url)
        const secret = `s3cret-${randomBytes(12).toString("hex")}`
        const multiline = `first ${secret}\n\nthird\r\n`
        const run = yield* Effect.promise(() =>
          collect(
            client.start(
              bash('printf "%s|%s|" "$SECRET" "$PWD_LIKE"; printf "%s" "$MULTI" | od -c | head -3', {
                envs: { SECRET: secret, PWD_LIKE: "-n", MULTI: multiline },
              }),
            ),
          ),
        )
        assert.isTrue(run.stdout.startsWith(`${secret}|-n|`), run.stdout)
        // od shows the value byte for byte: the empty line and the trailing CR LF survive.
        assert.include(run.stdout.replace(/\s+/g, " "), "t h i r d \\r \\n")
        assert.strictEqual(run.end?.exitCode, 0)

        // With the command's own stdin: the environment first, then what the caller sends.
        const events = client.start({
          process: {
            cmd: "/bin/sh",
            args: ["-c", 'read -r line; printf "%s+%s" "$SECRET" "$line"'],
            envs: { SECRET: secret },
          },
          stdin: true,
        })
        const reading = Effect.runPromise(Effect.promise(() => collect(events)))
        let pid = 0
        for (let i = 0; i < 100 && pid === 0; i++) {
          const { processes } = yield* Effect.promise(() => client.list({}))
          pid = processes.find((p) => p.config?.envs.SECRET === secret)?.pid ?? 0
          if (pid === 0) yield* Effect.sleep("100 millis")
        }
        yield* Effect.promise(() =>
          client.sendInput({
            process: { selector: { case: "pid", value: pid } },
            input: { input: { case: "stdin", value: new TextEncoder().encode("typed\n") } },
          }),
        )
        const withStdin = yield* Effect.promise(() => reading)
        assert.strictEqual(withStdin.stdout, `${secret}+typed`)

        // Under a terminal: the value reaches the shell and the block is not echoed. (The shell
        // stays until killed: a PTY command that exits at once may lose its last output on KWOK.)
        const tty = yield* Effect.promise(async () => {
          const events = client
            .start({
              process: {
                cmd: "/bin/sh",
                args: ["-c", 'printf "<%s>" "$SECRET"; sleep 60'],
                envs: { SECRET: secret },
              },
              pty: { size: { cols: 80, rows: 24 } },
            })
            [Symbol.asyncIterator]()
          let out = ""
          let pid = 0
          while (!out.includes(">")) {
            const next = await events.next()
            if (next.done === true) break
            const e = next.value.event?.event
            if (e?.case === "start") pid = e.value.pid
            if (e?.case === "data" && e.value.output.case === "pty") out += decode(e.value.output.value)
          }
          await client.sendSignal({
            process: { selector: { case: "pid", value: pid } },
            signal: Signal.SIGKILL,
          })
          return out
        })
        assert.strictEqual(tty, `<${secret}>`)

        // kube-apiserver's audit log (the local control plane's, see @agent-sandbox/testing Layout.auditLog)
        // holds every exec URI; the secret is in none of them.
        const auditLog = path.join(
          path.dirname(process.env.KUBECONFIG ?? ""),
          "logs",
          "kube-apiserver-audit.log",
        )
        const podExecs = yield* Effect.promise(async () => {
          const lines = (await readFile(auditLog, "utf8")).split("\n").filter((line) => line !== "")
          return lines
            .map((line) => JSON.parse(line) as { requestURI: string })
            .filter(({ requestURI }) =>
              requestURI.startsWith(`/api/v1/namespaces/${target.namespace}/pods/${target.pod}/exec`),
            )
        }).pipe(
          Effect.filterOrFail(
            (execs) => execs.some(({ requestURI }) => requestURI.includes("od")),
            () => "no exec audited yet",
          ),
          Effect.retry(Schedule.spaced("200 millis").pipe(Schedule.upTo("20 seconds"))),
        )
        assert.isAbove(podExecs.length, 2)
        for (const { requestURI } of podExecs) {
          assert.notInclude(decodeURIComponent(requestURI.replaceAll("+", " ")), secret)
          assert.notInclude(requestURI, secret)
        }
      }),
    )

    it.effect("feeds stdin through SendInput", () =>
      Effect.gen(function* () {
        const { url } = yield* EnvdServer
        const client = processClient(url)
        const events = client.start({
          process: { cmd: "/bin/sh", args: ["-c", "read line; echo got:$line"] },
          stdin: true,
        })
        const iterator = events[Symbol.asyncIterator]()
        const first = yield* Effect.promise(() => iterator.next())
        const start = first.value?.event?.event
        assert.strictEqual(start?.case, "start")
        const pid = start?.case === "start" ? start.value.pid : 0
        yield* Effect.promise(() =>
          client.sendInput({
            process: { selector: { case: "pid", value: pid } },
            input: { input: { case: "stdin", value: new TextEncoder().encode("hello\n") } },
          }),
        )
        const run = yield* Effect.promise(() => collect({ [Symbol.asyncIterator]: () => iterator }))
        assert.strictEqual(run.stdout, "got:hello\n")
        assert.strictEqual(run.end?.exitCode, 0)
      }),
    )

    it.effect("takes ordered input from a client stream (StreamInput)", () =>
      Effect.gen(function* () {
        const { url } = yield* EnvdServer
        const client = processClient(url)
        const events = client
          .start({
            process: { cmd: "/bin/sh", args: ["-c", "read a; read b; echo $a-$b"] },
            stdin: true,
            tag: "reader",
          })
          [Symbol.asyncIterator]()
        yield* Effect.promise(() => events.next())
        const chunk = (text: string) => ({
          event: {
            case: "data" as const,
            value: { input: { input: { case: "stdin" as const, value: new TextEncoder().encode(text) } } },
          },
        })
        yield* Effect.promise(() =>
          client.streamInput(
            (async function* (): AsyncGenerator<MessageInitShape<typeof StreamInputRequestSchema>> {
              yield {
                event: {
                  case: "start" as const,
                  value: { process: { selector: { case: "tag" as const, value: "reader" } } },
                },
              }
              yield chunk("one\n")
              yield { event: { case: "keepalive" as const, value: {} } }
              yield chunk("two\n")
            })(),
          ),
        )
        const run = yield* Effect.promise(() => collect({ [Symbol.asyncIterator]: () => events }))
        assert.strictEqual(run.stdout, "one-two\n")
      }),
    )

    it.effect("keeps a background process: List, Connect from another stream, SendSignal", () =>
      Effect.gen(function* () {
        const { url } = yield* EnvdServer
        const client = processClient(url)
        // Start, read the start event, then walk away: the process keeps running.
        const abort = new AbortController()
        const started = client
          .start({ ...bash("echo ready; sleep 600"), tag: "sleeper" }, { signal: abort.signal })
          [Symbol.asyncIterator]()
        const first = yield* Effect.promise(() => started.next())
        const pid = first.value?.event?.event.case === "start" ? first.value.event.event.value.pid : 0
        abort.abort()

        const listed = yield* Effect.promise(() => client.list({}))
        const mine = listed.processes.find((p) => p.pid === pid)
        assert.strictEqual(mine?.tag, "sleeper")
        assert.deepStrictEqual(mine?.config?.args, ["-l", "-c", "echo ready; sleep 600"])

        const attached = client.connect({ process: { selector: { case: "tag", value: "sleeper" } } })
        const watching = collect(attached)
        yield* Effect.sleep("200 millis")
        yield* Effect.promise(() =>
          client.sendSignal({ process: { selector: { case: "pid", value: pid } }, signal: Signal.SIGKILL }),
        )
        const run = yield* Effect.promise(() => watching)
        assert.strictEqual(run.pid, pid)
        assert.deepInclude(run.end, { exited: false, status: "signal: killed" })

        const after = yield* Effect.promise(() => client.list({}))
        assert.isUndefined(after.processes.find((p) => p.pid === pid))
        const again = yield* Effect.promise(() =>
          errorOf(
            client.sendSignal({ process: { selector: { case: "pid", value: pid } }, signal: Signal.SIGKILL }),
          ),
        )
        assert.strictEqual(again.code, 5) // not_found
      }),
    )

    it.effect("kills a command when its Start deadline (Connect-Timeout-Ms) passes, as envd does", () =>
      Effect.gen(function* () {
        const { url } = yield* EnvdServer
        const client = processClient(url)
        const failure = yield* Effect.promise(() =>
          errorOf(collect(client.start({ ...bash("sleep 600"), tag: "deadline" }, { timeoutMs: 1500 }))),
        )
        assert.strictEqual(failure.code, 4) // deadline_exceeded
        let listed = true
        for (let i = 0; i < 100 && listed; i++) {
          const { processes } = yield* Effect.promise(() => client.list({}))
          listed = processes.some((p) => p.tag === "deadline")
          if (listed) yield* Effect.sleep("100 millis")
        }
        assert.isFalse(listed)
      }),
    )

    it.effect("runs under a PTY that follows resizes", () =>
      Effect.gen(function* () {
        const { url } = yield* EnvdServer
        const client = processClient(url)
        const events = client
          .start({
            process: {
              cmd: "/bin/sh",
              args: ["-c", "while read line; do stty size; done"],
              envs: { TERM: "xterm" },
            },
            pty: { size: { cols: 80, rows: 24 } },
          })
          [Symbol.asyncIterator]()
        const first = yield* Effect.promise(() => events.next())
        const pid = first.value?.event?.event.case === "start" ? first.value.event.event.value.pid : 0
        const selector = { selector: { case: "pid" as const, value: pid } }
        const ask = () =>
          client.sendInput({
            process: selector,
            input: { input: { case: "pty", value: new TextEncoder().encode("size?\n") } },
          })
        let seen = ""
        const until = async (text: string) => {
          for (let i = 0; i < 100 && !seen.includes(text); i++) {
            await ask()
            const next = await Promise.race([
              events.next(),
              new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 300)),
            ])
            const e = next?.value?.event?.event
            if (e?.case === "data" && e.value.output.case === "pty") seen += decode(e.value.output.value)
          }
          return seen.includes(text)
        }
        assert.isTrue(yield* Effect.promise(() => until("24 80")))
        yield* Effect.promise(() =>
          client.update({ process: selector, pty: { size: { cols: 100, rows: 30 } } }),
        )
        assert.isTrue(yield* Effect.promise(() => until("30 100")))
        yield* Effect.promise(() => client.sendSignal({ process: selector, signal: Signal.SIGKILL }))
      }),
    )

    it.effect("reports unknown processes as not_found", () =>
      Effect.gen(function* () {
        const { url } = yield* EnvdServer
        const client = processClient(url)
        const selector = { selector: { case: "pid" as const, value: 999_999_999 } }
        const errors = yield* Effect.promise(() =>
          Promise.all([
            errorOf(client.sendSignal({ process: selector, signal: Signal.SIGTERM })),
            errorOf(client.closeStdin({ process: selector })),
            errorOf(collect(client.connect({ process: selector }))),
          ]),
        )
        assert.deepStrictEqual(
          errors.map((e) => e.code),
          [5, 5, 5],
        )
      }),
    )
  },
)
