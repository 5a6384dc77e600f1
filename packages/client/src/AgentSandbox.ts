import type {
  ApiKeyInfo,
  CreatedApiKey,
  CreateSandboxRequest,
  PoolScale,
  PoolSummary,
  Sandbox,
  SandboxPage,
  TemplateSummary,
} from "@agent-sandbox/domain/api"
import { Cause, Effect, Exit, ManagedRuntime, Option } from "effect"
import * as AgentSandboxClient from "./AgentSandboxClient.ts"
import { fromFailure, SandboxNotFoundError } from "./ClientErrors.ts"

export interface AgentSandboxOptions {
  /** e.g. http://127.0.0.1:8080 */
  readonly baseUrl: string
  readonly apiKey: string
}

export type CreateRequest = typeof CreateSandboxRequest.Encoded

export interface ListFilter {
  readonly namespace?: string
  readonly pool?: string
  readonly metadata?: Readonly<Record<string, string>>
  /** Page size (1-1000, default 100). */
  readonly pageSize?: number
}

export interface CallOptions {
  /** Aborting cancels the request (an allocation the server already made is then released by it). */
  readonly signal?: AbortSignal
}

/**
 * An allocated sandbox that releases itself: `await using sbx = await client.create(...)` ends it
 * when the block exits, normally or by an exception.
 */
export class SandboxHandle implements AsyncDisposable {
  #client: AgentSandbox
  #released: Promise<void> | undefined
  info: Sandbox
  constructor(client: AgentSandbox, info: Sandbox) {
    this.#client = client
    this.info = info
  }
  get id(): string {
    return this.info.id
  }
  /** Sets the sandbox to expire `timeoutSeconds` from now (capped by its pool). */
  async extend(timeoutSeconds: number, options?: CallOptions): Promise<Sandbox> {
    this.info = await this.#client.extend(this.id, timeoutSeconds, options)
    return this.info
  }
  /** Ends the sandbox; once only, and a sandbox already gone (expired) counts as released. */
  release(): Promise<void> {
    this.#released ??= this.#client.release(this.id).catch((error: unknown) => {
      if (!(error instanceof SandboxNotFoundError)) throw error
    })
    return this.#released
  }
  [Symbol.asyncDispose](): Promise<void> {
    return this.release()
  }
}

/**
 * The REST API for Promise users. Every failure is an `AgentSandboxError` subclass
 * (SandboxNotFoundError, CapacityError with retryAfterSeconds, UnauthorizedError, ...).
 */
export class AgentSandbox implements AsyncDisposable {
  readonly #runtime: ManagedRuntime.ManagedRuntime<AgentSandboxClient.AgentSandboxClient, never>

  constructor(options: AgentSandboxOptions) {
    this.#runtime = ManagedRuntime.make(AgentSandboxClient.layer(options))
  }

  async #run<A, E>(
    body: (client: AgentSandboxClient.AgentSandboxClientShape) => Effect.Effect<A, E>,
    options?: CallOptions,
  ): Promise<A> {
    const exit = await this.#runtime.runPromiseExit(
      Effect.flatMap(AgentSandboxClient.AgentSandboxClient, body),
      options?.signal === undefined ? undefined : { signal: options.signal },
    )
    if (Exit.isSuccess(exit)) return exit.value
    const failure = Cause.failureOption(exit.cause)
    if (Option.isSome(failure)) throw fromFailure(failure.value)
    throw Cause.isInterruptedOnly(exit.cause)
      ? (options?.signal?.reason ?? new Error("interrupted"))
      : Cause.squash(exit.cause)
  }

  /** Allocates one sandbox from a warm pool (waits, bounded, when the pool is empty). */
  async create(request: CreateRequest, options?: CallOptions): Promise<SandboxHandle> {
    const info = await this.#run((c) => c.sandboxes.create({ payload: request }), options)
    return new SandboxHandle(this, info)
  }

  /** `count` sandboxes at once, all or none. */
  async batch(
    request: CreateRequest & { readonly count: number },
    options?: CallOptions,
  ): Promise<Array<SandboxHandle>> {
    const batch = await this.#run((c) => c.sandboxes.createBatch({ payload: request }), options)
    return batch.sandboxes.map((info) => new SandboxHandle(this, info))
  }

  get(id: string, options?: CallOptions): Promise<Sandbox> {
    return this.#run((c) => c.sandboxes.get({ path: { id } }), options)
  }

  /** The caller's sandboxes one page at a time (ordered by id; stable while sandboxes come and go). */
  async *pages(filter: ListFilter = {}, options?: CallOptions): AsyncGenerator<SandboxPage> {
    let cursor: string | undefined
    do {
      const page: SandboxPage = await this.#run(
        (c) =>
          c.sandboxes.list({
            urlParams: {
              ...(filter.namespace === undefined ? {} : { namespace: filter.namespace }),
              ...(filter.pool === undefined ? {} : { pool: filter.pool }),
              ...(filter.metadata === undefined
                ? {}
                : { metadata: new URLSearchParams(filter.metadata).toString() }),
              ...(filter.pageSize === undefined ? {} : { limit: filter.pageSize }),
              ...(cursor === undefined ? {} : { cursor }),
            },
          }),
        options,
      )
      yield page
      cursor = page.nextCursor
    } while (cursor !== undefined)
  }

  /** Every matching sandbox, fetching pages as the loop goes: `for await (const s of client.list())`. */
  async *list(filter: ListFilter = {}, options?: CallOptions): AsyncGenerator<Sandbox> {
    for await (const page of this.pages(filter, options)) yield* page.items
  }

  extend(id: string, timeoutSeconds: number, options?: CallOptions): Promise<Sandbox> {
    return this.#run((c) => c.sandboxes.extendTimeout({ path: { id }, payload: { timeoutSeconds } }), options)
  }

  release(id: string, options?: CallOptions): Promise<void> {
    return this.#run((c) => c.sandboxes.delete({ path: { id } }), options)
  }

  pools(options?: CallOptions): Promise<ReadonlyArray<PoolSummary>> {
    return this.#run((c) => c.pools.listPools(), options)
  }

  templates(options?: CallOptions): Promise<ReadonlyArray<TemplateSummary>> {
    return this.#run((c) => c.pools.listTemplates(), options)
  }

  /** Admin: sets a pool's warm target. */
  scalePool(namespace: string, name: string, replicas: number, options?: CallOptions): Promise<PoolScale> {
    return this.#run(
      (c) => c.poolAdmin.scalePool({ path: { namespace, name }, payload: { replicas } }),
      options,
    )
  }

  /** Admin: API keys. `create` returns the key itself, once. */
  readonly keys = {
    create: (tenant: string, opts?: { readonly admin?: boolean } & CallOptions): Promise<CreatedApiKey> =>
      this.#run(
        (c) =>
          c.keys.createKey({
            payload: { tenant, ...(opts?.admin === undefined ? {} : { admin: opts.admin }) },
          }),
        opts,
      ),
    list: (options?: CallOptions): Promise<ReadonlyArray<ApiKeyInfo>> =>
      this.#run((c) => c.keys.listKeys(), options),
    revoke: (id: string, options?: CallOptions): Promise<void> =>
      this.#run((c) => c.keys.revokeKey({ path: { id } }), options),
  }

  /** Frees the client's resources (not the sandboxes). */
  close(): Promise<void> {
    return this.#runtime.dispose()
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }
}
