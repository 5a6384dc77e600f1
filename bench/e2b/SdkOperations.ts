/**
 * What an E2B user does, through the unchanged npm `e2b` SDK (the sdk-tests workspace's
 * devDependency, hoisted to the root node_modules). The SDK finds the server through E2B_API_URL,
 * E2B_SANDBOX_URL and E2B_API_KEY only (set by `useSdkEnvironment`). Each operation fails with a
 * short reason for the load loop's failure count.
 */

import { Sandbox } from "e2b"
import { Effect } from "effect"

/** A short failure reason: the SDK's error class and the start of its message. */
export const reasonOf = (cause: unknown): string => {
  const error = cause instanceof Error ? cause : new Error(String(cause))
  return `${error.name}: ${error.message.split("\n")[0]!.slice(0, 100)}`
}

const sdk = <A>(run: () => Promise<A>): Effect.Effect<A, string> =>
  Effect.tryPromise({ try: run, catch: reasonOf })

/** Sets the SDK's environment variables for the scope's lifetime (as a user would export them). */
export { useSdkEnvironment } from "../../packages/sdk-tests/test/support/SdkServer.ts"

/** Sandboxes live 10 minutes unless killed (the bench pool allows up to an hour). */
const sandboxTimeoutMs = 600_000

export const create = (template: string): Effect.Effect<Sandbox, string> =>
  sdk(() => Sandbox.create(template, { timeoutMs: sandboxTimeoutMs }))

export const kill = (sandbox: Sandbox): Effect.Effect<void, string> =>
  Effect.flatMap(
    sdk(() => sandbox.kill()),
    (killed) => (killed ? Effect.void : Effect.fail("kill: the server did not know the sandbox")),
  )

/** `commands.run(command)`; a nonzero exit is a failure (the SDK throws CommandExitError). */
export const run = (sandbox: Sandbox, command: string): Effect.Effect<void, string> =>
  Effect.asVoid(sdk(() => sandbox.commands.run(command)))

/** Writes `bytes` to `path` (relative: the sandbox user's home directory). */
export const write = (
  sandbox: Sandbox,
  path: string,
  bytes: Uint8Array<ArrayBuffer>,
): Effect.Effect<void, string> =>
  Effect.asVoid(
    sdk(() =>
      sandbox.files.write(path, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)),
    ),
  )

/** Reads `path` back and checks it holds exactly `expected`. */
export const readBack = (sandbox: Sandbox, path: string, expected: Uint8Array): Effect.Effect<void, string> =>
  Effect.flatMap(
    sdk(() => sandbox.files.read(path, { format: "bytes" })),
    (bytes) =>
      Buffer.compare(bytes, expected) === 0
        ? Effect.void
        : Effect.fail(`read: ${bytes.byteLength} bytes that differ from the ${expected.byteLength} written`),
  )
