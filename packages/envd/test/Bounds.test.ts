/**
 * Issue 13's bounds on the envd data plane, against a Pod on the local control plane (KWOK's exec):
 * processes and watchers per sandbox, the stdin buffer and the Connect message size answer
 * resource_exhausted; a ListDir deeper than allowed invalid_argument; /files uploads over the cap,
 * as sent or once gunzipped, 413 with nothing written.
 */
import { gzipSync } from "node:zlib"
import { Code, ConnectError } from "@connectrpc/connect"
import { assert, layer } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { EnvdServer, layer as envdLayer, filesystemClient, headers, processClient } from "./EnvdCluster.ts"

const limits = {
  handler: { readMaxBytes: 64 * 1024, maxUploadBytes: 1024, maxListDepth: 3 },
  services: { maxWatchersPerSandbox: 1, processes: { maxPerSandbox: 2, maxStdinBufferBytes: 16 } },
}

const errorOf = async (promise: Promise<unknown>): Promise<ConnectError> => {
  try {
    await promise
  } catch (error) {
    return ConnectError.from(error)
  }
  throw new Error("expected the call to fail")
}

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

/** Starts `script` with stdin open and returns its pid once envd reports the start. */
const startPid = async (url: string, script: string): Promise<number> => {
  {
    const events = processClient(url)
      .start({ process: { cmd: "/bin/sh", args: ["-c", script] }, stdin: true })
      [Symbol.asyncIterator]()
    const first = await events.next()
    const start = first.value?.event?.event
    if (start?.case !== "start") throw new Error(`no start event: ${JSON.stringify(first.value)}`)
    return start.value.pid
  }
}

const startProcess = (url: string, script: string) => promise(() => startPid(url, script))

/** Retries a call that is refused until something frees up (an exec session ending). */
const untilAccepted = <A>(f: () => Promise<A>) =>
  Effect.tryPromise(f).pipe(
    Effect.retry(Schedule.spaced("100 millis").pipe(Schedule.upTo("60 seconds"))),
    Effect.orDie,
  )

const kill = (url: string, pid: number) =>
  promise(() =>
    processClient(url).sendSignal({ process: { selector: { case: "pid", value: pid } }, signal: 9 }),
  )

const upload = (
  url: string,
  path: string,
  body: Uint8Array,
  extra: Record<string, string> = {},
  chunked = false,
) =>
  promise(async () => {
    const response = await fetch(`${url}/files?path=${encodeURIComponent(path)}`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/octet-stream", ...extra },
      ...(chunked
        ? {
            body: new ReadableStream({
              start(controller) {
                controller.enqueue(body)
                controller.close()
              },
            }),
            duplex: "half",
          }
        : { body }),
    } as RequestInit)
    return { status: response.status, body: (await response.json()) as { code: number; message: string } }
  })

layer(envdLayer("envd-bounds", limits), { timeout: "3 minutes", excludeTestServices: true })(
  "envd bounds",
  (it) => {
    it.effect("processes per sandbox: past the limit resource_exhausted, free again once one ends", () =>
      Effect.gen(function* () {
        const { url } = yield* EnvdServer
        const first = yield* startProcess(url, "sleep 120")
        const second = yield* startProcess(url, "sleep 120")
        const third = yield* promise(() => errorOf(startPid(url, "sleep 120")))
        assert.strictEqual(third.code, Code.ResourceExhausted)
        assert.include(third.rawMessage, "the most this server allows (2)")
        yield* kill(url, first)
        yield* kill(url, second)
        // Each ends as its exec session does; then a process may start again.
        const again = yield* untilAccepted(() => startPid(url, "sleep 120"))
        yield* kill(url, again)
      }),
    )

    it.effect("stdin: input past the buffer is resource_exhausted; a message past readMaxBytes too", () =>
      Effect.gen(function* () {
        const { url } = yield* EnvdServer
        const pid = yield* startProcess(url, "read line; echo $line")
        const send = (bytes: number) =>
          processClient(url).sendInput({
            process: { selector: { case: "pid", value: pid } },
            input: { input: { case: "stdin", value: new Uint8Array(bytes).fill(65) } },
          })
        const tooMuch = yield* promise(() => errorOf(send(17)))
        assert.strictEqual(tooMuch.code, Code.ResourceExhausted)
        assert.include(tooMuch.rawMessage, "the most it may hold is 16")
        const huge = yield* promise(() => errorOf(send(100 * 1024)))
        assert.strictEqual(huge.code, Code.ResourceExhausted)
        yield* kill(url, pid)
      }),
    )

    it.effect("watchers per sandbox: past the limit resource_exhausted", () =>
      Effect.gen(function* () {
        const { url } = yield* EnvdServer
        const fs = filesystemClient(url)
        yield* promise(() => fs.makeDir({ path: "watched" }))
        const { watcherId } = yield* promise(() => fs.createWatcher({ path: "watched", recursive: false }))
        const second = yield* promise(() => errorOf(fs.createWatcher({ path: "watched", recursive: false })))
        assert.strictEqual(second.code, Code.ResourceExhausted)
        assert.include(second.rawMessage, "directory watchers")
        yield* promise(() => fs.removeWatcher({ watcherId }))
        const again = yield* untilAccepted(() => fs.createWatcher({ path: "watched", recursive: false }))
        yield* promise(() => fs.removeWatcher({ watcherId: again.watcherId }))
      }),
    )

    it.effect("ListDir deeper than allowed is invalid_argument", () =>
      Effect.gen(function* () {
        const { url } = yield* EnvdServer
        const fs = filesystemClient(url)
        yield* promise(() => fs.makeDir({ path: "deep/a/b" }))
        const listed = yield* promise(() => fs.listDir({ path: "deep", depth: 3 }))
        assert.isAbove(listed.entries.length, 0)
        const tooDeep = yield* promise(() => errorOf(fs.listDir({ path: "deep", depth: 4 })))
        assert.strictEqual(tooDeep.code, Code.InvalidArgument)
        assert.include(tooDeep.rawMessage, "at most 3")
      }),
    )

    it.effect("/files uploads over the cap are 413, declared, chunked or gunzipped; under it they land", () =>
      Effect.gen(function* () {
        const { url } = yield* EnvdServer
        const declared = yield* upload(url, "big.bin", new Uint8Array(2048))
        assert.deepStrictEqual(declared, {
          status: 413,
          body: { code: 413, message: "the upload exceeds the limit of 1024 bytes" },
        })
        const chunked = yield* upload(url, "big.bin", new Uint8Array(2048), {}, true)
        assert.strictEqual(chunked.status, 413)
        // 100 KiB of zeros gzip to a few hundred bytes: within the cap as sent, over it inflated.
        const bomb = gzipSync(new Uint8Array(100 * 1024))
        assert.isBelow(bomb.length, 1024)
        const inflated = yield* upload(url, "big.bin", bomb, { "content-encoding": "gzip" })
        assert.strictEqual(inflated.status, 413)
        const fs = filesystemClient(url)
        const missing = yield* promise(() => errorOf(fs.stat({ path: "big.bin" })))
        assert.strictEqual(missing.code, Code.NotFound)

        const small = yield* upload(url, "small.bin", gzipSync(new Uint8Array(512)), {
          "content-encoding": "gzip",
        })
        assert.strictEqual(small.status, 200, JSON.stringify(small.body))
        const stat = yield* promise(() => fs.stat({ path: "small.bin" }))
        assert.strictEqual(Number(stat.entry?.size), 512)
      }),
    )
  },
)
