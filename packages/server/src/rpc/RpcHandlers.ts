import {
  type CreateSandboxRequest,
  type ExecChunk,
  ExecFailed,
  SandboxBatch,
  type SandboxLifecycleEvent,
  SandboxRpcs,
} from "@agent-sandbox/domain"
import { type EnvdError, SandboxShell } from "@agent-sandbox/envd"
import { Sandboxes } from "@agent-sandbox/operator"
import { Effect, Stream } from "effect"
import * as AllocationRequests from "../auth/AllocationRequests.ts"
import * as Caller from "../auth/Caller.ts"
import * as SandboxView from "../rest/SandboxView.ts"
import { ServerConfig } from "../ServerConfig.ts"
import { TenantGate } from "../tenancy/TenantGate.ts"

const caller = Caller.current

/** A lifecycle event as RPC clients see it. */
export const toLifecycleEvent = (event: Sandboxes.SandboxEvent): SandboxLifecycleEvent => {
  switch (event._tag) {
    case "Allocated":
    case "Updated":
      return { _tag: event._tag, sandbox: SandboxView.toApi(event.sandbox) }
    case "Ended":
      return {
        _tag: "Ended",
        id: event.sandbox.sandboxId ?? "",
        namespace: event.sandbox.namespace,
        pool: event.sandbox.pool,
      }
  }
}

const execFailed = (sandboxId: string) => (error: EnvdError.EnvdError) =>
  new ExecFailed({ sandboxId, message: error.message })

/** Every RPC through the operator's `Sandboxes` service, as the caller's tenant. */
export const layer = SandboxRpcs.toLayer(
  Effect.gen(function* () {
    const sandboxes = yield* Sandboxes.Sandboxes
    const shell = yield* SandboxShell.SandboxShell
    const config = yield* ServerConfig
    const gate = yield* TenantGate
    const request = (payload: CreateSandboxRequest) =>
      AllocationRequests.fromCreate(payload, config.defaultNamespace)
    return {
      allocate: (payload) =>
        Effect.flatMap(request(payload), (r) =>
          AllocationRequests.admitted(gate, r, 1)(sandboxes.allocate(r)),
        ).pipe(Effect.map((allocated) => SandboxView.toApi(allocated))),
      allocateBatch: (payload) =>
        Effect.flatMap(request(payload), (r) =>
          AllocationRequests.admitted(gate, r, payload.count)(sandboxes.allocateBatch(r, payload.count)),
        ).pipe(Effect.map((all) => new SandboxBatch({ sandboxes: all.map(SandboxView.toApi) }))),
      release: ({ id }) => Effect.flatMap(caller, (c) => sandboxes.release(c, id)),
      extend: ({ id, timeoutSeconds }) =>
        Effect.flatMap(caller, (c) => sandboxes.extend(c, id, timeoutSeconds)).pipe(
          Effect.map((allocated) => SandboxView.toApi(allocated)),
        ),
      get: ({ id }) =>
        Effect.flatMap(caller, (c) => sandboxes.get(c, id)).pipe(
          Effect.map((allocated) => SandboxView.toApi(allocated)),
        ),
      list: (filter) =>
        Effect.flatMap(caller, sandboxes.list).pipe(
          Effect.map((all) =>
            all
              .filter((a) => SandboxView.matches(a.sandbox, filter))
              .map(SandboxView.toApi)
              .sort((a, b) => (a.id < b.id ? -1 : 1)),
          ),
        ),
      watch: () =>
        Stream.unwrapScoped(Effect.flatMap(caller, sandboxes.events)).pipe(Stream.map(toLifecycleEvent)),
      // The exec session lives as long as the stream: a client that stops reading (or is
      // interrupted) closes it, and the command's connection with it.
      exec: ({ id, command }) =>
        Stream.unwrapScoped(
          Effect.gen(function* () {
            // A fresh read of the Pod: a lagging watch may still show it to a tenant it no longer serves.
            const allocated = yield* Effect.flatMap(caller, (c) => sandboxes.get(c, id)).pipe(
              Effect.flatMap(sandboxes.confirm),
            )
            const process = yield* shell
              .spawn(
                {
                  namespace: allocated.sandbox.namespace,
                  pod: allocated.sandbox.name,
                  container: allocated.sandbox.containerName,
                },
                { argv: command },
              )
              .pipe(Effect.mapError(execFailed(id)))
            const output = Stream.merge(
              Stream.map(process.stdout, (data): ExecChunk => ({ _tag: "Stdout", data })),
              Stream.map(process.stderr, (data): ExecChunk => ({ _tag: "Stderr", data })),
            )
            const exit = Stream.fromEffect(
              Effect.map(
                process.exit,
                (end): ExecChunk =>
                  end._tag === "Exited"
                    ? { _tag: "Exit", exitCode: end.exitCode }
                    : { _tag: "Exit", exitCode: -1, message: end.message },
              ),
            )
            return Stream.concat(output, exit).pipe(Stream.mapError(execFailed(id)))
          }),
        ),
    }
  }),
)
