import { Context, Effect, Either, Layer, ParseResult, Schema, type Scope, type Stream } from "effect"
import type { Scale } from "kubernetes-types/autoscaling/v1.js"
import * as HttpTransport from "./HttpTransport.ts"
import { KubeConfig } from "./KubeConfig.ts"
import { fromStatus, KubeError } from "./KubeError.ts"
import { type KubeObject, stripManagedFields } from "./KubeObject.ts"
import * as Patch from "./Patch.ts"
import { collectionPath, describe, objectPath, type ResourceInfo, type ResourceType } from "./ResourceType.ts"

export interface NamespaceOption {
  /** Required for namespaced kinds unless the object carries metadata.namespace. */
  readonly namespace?: string | undefined
}

export interface ListOptions extends NamespaceOption {
  readonly labelSelector?: string | undefined
  readonly fieldSelector?: string | undefined
  /** Page size; the answer's `continue` fetches the next page. */
  readonly limit?: number | undefined
  readonly continue?: string | undefined
  readonly resourceVersion?: string | undefined
  readonly resourceVersionMatch?: "Exact" | "NotOlderThan" | undefined
}

export interface ObjectList<T> {
  readonly items: ReadonlyArray<T>
  /** The collection's version: where a watch that follows this list starts. Opaque. */
  readonly resourceVersion: string
  readonly continue: string | undefined
}

export interface WriteOptions extends NamespaceOption {
  /** Defaults to the client's field manager ("agent-sandbox"). */
  readonly fieldManager?: string | undefined
  readonly dryRun?: boolean | undefined
}

export interface ApplyOptions extends WriteOptions {
  /** Take fields other managers own instead of failing with Conflict. */
  readonly force?: boolean | undefined
}

export interface DeleteOptions extends NamespaceOption {
  /** Delete only this incarnation / this version of the object (409 Conflict otherwise). */
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string } | undefined
  readonly propagationPolicy?: "Foreground" | "Background" | "Orphan" | undefined
  readonly gracePeriodSeconds?: number | undefined
  readonly dryRun?: boolean | undefined
}

export interface WatchOptions extends NamespaceOption {
  readonly labelSelector?: string | undefined
  readonly fieldSelector?: string | undefined
  /** Where to start; opaque. */
  readonly resourceVersion?: string | undefined
  readonly allowWatchBookmarks?: boolean | undefined
  /** The server ends the watch after this long. */
  readonly timeoutSeconds?: number | undefined
}

/**
 * The body of a server-side apply: the fields one manager wants, named by metadata.name (and
 * namespace); apiVersion and kind are filled in from the resource type when missing.
 */
export type ApplyObject = KubeObject & { readonly [field: string]: unknown }

/** One line of a watch response. ERROR carries the server's Status as a KubeError (410 Gone, ...). */
export type WatchEvent<T> =
  | { readonly type: "ADDED" | "MODIFIED" | "DELETED"; readonly object: T }
  | { readonly type: "BOOKMARK"; readonly resourceVersion: string }
  | { readonly type: "ERROR"; readonly error: KubeError }

export interface KubeClientShape {
  /** The field manager writes use unless told otherwise. */
  readonly fieldManager: string
  readonly get: <T extends KubeObject>(
    type: ResourceType<T>,
    name: string,
    options?: NamespaceOption,
  ) => Effect.Effect<T, KubeError>
  /** One page; all namespaces when a namespaced kind is listed without a namespace. */
  readonly list: <T extends KubeObject>(
    type: ResourceType<T>,
    options?: ListOptions,
  ) => Effect.Effect<ObjectList<T>, KubeError>
  readonly create: <T extends KubeObject>(
    type: ResourceType<T>,
    object: T,
    options?: WriteOptions,
  ) => Effect.Effect<T, KubeError>
  /** PUT: fails with Conflict when metadata.resourceVersion is set and stale. */
  readonly replace: <T extends KubeObject>(
    type: ResourceType<T>,
    object: T,
    options?: WriteOptions,
  ) => Effect.Effect<T, KubeError>
  readonly delete: <T extends KubeObject>(
    type: ResourceType<T>,
    name: string,
    options?: DeleteOptions,
  ) => Effect.Effect<void, KubeError>
  readonly patch: <T extends KubeObject>(
    type: ResourceType<T>,
    name: string,
    patch: Patch.Patch,
    options?: WriteOptions,
  ) => Effect.Effect<T, KubeError>
  /** Server-side apply of `object` (which names itself) as one field manager. */
  readonly apply: <T extends KubeObject>(
    type: ResourceType<T>,
    object: ApplyObject,
    options?: ApplyOptions,
  ) => Effect.Effect<T, KubeError>
  readonly replaceStatus: <T extends KubeObject>(
    type: ResourceType<T>,
    object: T,
    options?: WriteOptions,
  ) => Effect.Effect<T, KubeError>
  readonly patchStatus: <T extends KubeObject>(
    type: ResourceType<T>,
    name: string,
    patch: Patch.Patch,
    options?: WriteOptions,
  ) => Effect.Effect<T, KubeError>
  readonly applyStatus: <T extends KubeObject>(
    type: ResourceType<T>,
    object: ApplyObject,
    options?: ApplyOptions,
  ) => Effect.Effect<T, KubeError>
  readonly getScale: (
    type: ResourceInfo,
    name: string,
    options?: NamespaceOption,
  ) => Effect.Effect<Scale, KubeError>
  readonly patchScale: (
    type: ResourceInfo,
    name: string,
    patch: Patch.Patch,
    options?: WriteOptions,
  ) => Effect.Effect<Scale, KubeError>
  /**
   * One watch request on a connection of its own; ends when the server ends it. Objects arrive
   * without managedFields. Most callers want `Watcher.watcher`, which lists, resumes and relists.
   */
  readonly watch: <T extends KubeObject>(
    type: ResourceType<T>,
    options?: WatchOptions,
  ) => Stream.Stream<WatchEvent<T>, KubeError>
}

export class KubeClient extends Context.Tag("@agent-sandbox/kube/KubeClient")<
  KubeClient,
  KubeClientShape
>() {}

export interface KubeClientOptions extends HttpTransport.TransportOptions {
  readonly fieldManager: string
}

export const defaultOptions: KubeClientOptions = {
  ...HttpTransport.defaultTransportOptions,
  fieldManager: "agent-sandbox",
}

/** The client over a transport; exported for callers that build the transport themselves. */
export const fromTransport = (transport: HttpTransport.Transport, fieldManager: string): KubeClientShape => {
  const managerQuery = (manager: string | undefined) =>
    `fieldManager=${encodeURIComponent(manager ?? fieldManager)}`

  const requireNamespace = (
    type: ResourceInfo,
    namespace: string | undefined,
    verb: string,
  ): Effect.Effect<string | undefined, KubeError> =>
    type.namespaced && (namespace === undefined || namespace === "")
      ? Effect.fail(
          new KubeError({
            reason: "BadRequest",
            status: 0,
            message: `${type.kind} is namespaced: ${verb} needs a namespace`,
            operation: `${verb} ${describe(type)}`,
          }),
        )
      : Effect.succeed(type.namespaced ? namespace : undefined)

  const target = (verb: string, type: ResourceInfo, name: string, namespace: string | undefined) => () =>
    `${verb} ${describe(type)} ${namespace === undefined ? name : `${namespace}/${name}`}`

  const call = <T extends KubeObject>(
    type: ResourceType<T>,
    request: HttpTransport.HttpRequest,
    operation: () => string,
  ): Effect.Effect<T, KubeError> =>
    // A kind without a schema (a Pod: every claim's answer) is taken as it came: one step less.
    type.schema === undefined
      ? Effect.map(transport.request(request, operation), (body) => {
          stripManagedFields(body)
          return body as T
        })
      : Effect.flatMap(transport.request(request, operation), (body) => decode(type, body, operation))

  const encodeBody = <T extends KubeObject>(
    type: ResourceType<T>,
    object: T,
    operation: () => string,
  ): Effect.Effect<string, KubeError> =>
    type.schema === undefined
      ? Effect.succeed(JSON.stringify(object))
      : Effect.map(
          Effect.mapError(encoder(type.schema)(object), (error) => invalidObject(operation(), error)),
          (encoded) => JSON.stringify(encoded),
        )

  const write = <T extends KubeObject>(
    verb: "create" | "replace" | "replace status",
    type: ResourceType<T>,
    object: T,
    options: WriteOptions | undefined,
  ): Effect.Effect<T, KubeError> =>
    Effect.gen(function* () {
      const namespace = yield* requireNamespace(type, options?.namespace ?? object.metadata?.namespace, verb)
      const name = object.metadata?.name ?? ""
      const operation = target(verb, type, name, namespace)
      const path =
        verb === "create"
          ? collectionPath(type, namespace)
          : objectPath(type, name, namespace, verb === "replace status" ? "status" : undefined)
      const query = `?${managerQuery(options?.fieldManager)}${options?.dryRun === true ? "&dryRun=All" : ""}`
      const body = yield* encodeBody(type, withTypeMeta(type, object) as T, operation)
      return yield* call(
        type,
        {
          method: verb === "create" ? "POST" : "PUT",
          path: path + query,
          body,
          contentType: "application/json",
        },
        operation,
      )
    })

  const patchAt = <T extends KubeObject>(
    type: ResourceInfo,
    name: string,
    patch: Patch.Patch,
    options: ApplyOptions | undefined,
    subresource: "status" | "scale" | undefined,
    decodeAs: ResourceType<T>,
  ): Effect.Effect<T, KubeError> =>
    Effect.flatMap(requireNamespace(type, options?.namespace, "patch"), (namespace) => {
      let query = `?${managerQuery(options?.fieldManager)}`
      if (patch._tag === "Apply" && (patch.force || options?.force === true)) query += "&force=true"
      if (options?.dryRun === true) query += "&dryRun=All"
      return call(
        decodeAs,
        {
          method: "PATCH",
          path: objectPath(type, name, namespace, subresource) + query,
          body: JSON.stringify(Patch.body(patch)),
          contentType: Patch.contentType(patch),
        },
        target(subresource === undefined ? "patch" : `patch ${subresource}`, type, name, namespace),
      )
    })

  const applyAt = <T extends KubeObject>(
    type: ResourceType<T>,
    object: ApplyObject,
    options: ApplyOptions | undefined,
    subresource: "status" | undefined,
  ): Effect.Effect<T, KubeError> =>
    patchAt(
      type,
      object.metadata?.name ?? "",
      Patch.apply(withTypeMeta(type, object), { force: options?.force ?? false }),
      { ...options, namespace: options?.namespace ?? object.metadata?.namespace },
      subresource,
      type,
    )

  return {
    fieldManager,
    get: (type, name, options) =>
      Effect.flatMap(requireNamespace(type, options?.namespace, "get"), (namespace) =>
        call(
          type,
          { method: "GET", path: objectPath(type, name, namespace) },
          target("get", type, name, namespace),
        ),
      ),

    list: (type, options) => {
      const namespace = type.namespaced ? options?.namespace : undefined
      const query = listQuery(options)
      const operation = () => `list ${describe(type)}${namespace === undefined ? "" : ` in ${namespace}`}`
      return Effect.flatMap(
        transport.request({ method: "GET", path: collectionPath(type, namespace) + query }, operation),
        (body) => decodeList(type, body, operation),
      )
    },

    create: (type, object, options) => write("create", type, object, options),
    replace: (type, object, options) => write("replace", type, object, options),
    replaceStatus: (type, object, options) => write("replace status", type, object, options),

    delete: (type, name, options) =>
      Effect.flatMap(requireNamespace(type, options?.namespace, "delete"), (namespace) => {
        const body = {
          apiVersion: "v1",
          kind: "DeleteOptions",
          ...(options?.preconditions !== undefined ? { preconditions: options.preconditions } : {}),
          ...(options?.propagationPolicy !== undefined
            ? { propagationPolicy: options.propagationPolicy }
            : {}),
          ...(options?.gracePeriodSeconds !== undefined
            ? { gracePeriodSeconds: options.gracePeriodSeconds }
            : {}),
        }
        return Effect.asVoid(
          transport.request(
            {
              method: "DELETE",
              path: objectPath(type, name, namespace) + (options?.dryRun === true ? "?dryRun=All" : ""),
              body: JSON.stringify(body),
              contentType: "application/json",
            },
            target("delete", type, name, namespace),
          ),
        )
      }),

    patch: (type, name, patch, options) => patchAt(type, name, patch, options, undefined, type),
    patchStatus: (type, name, patch, options) => patchAt(type, name, patch, options, "status", type),
    apply: (type, object, options) => applyAt(type, object, options, undefined),
    applyStatus: (type, object, options) => applyAt(type, object, options, "status"),

    getScale: (type, name, options) =>
      Effect.flatMap(requireNamespace(type, options?.namespace, "get scale"), (namespace) =>
        Effect.map(
          transport.request(
            { method: "GET", path: objectPath(type, name, namespace, "scale") },
            target("get scale", type, name, namespace),
          ),
          (body) => stripManagedFields(body as Scale),
        ),
      ),
    patchScale: (type, name, patch, options) => patchAt(type, name, patch, options, "scale", ScaleType),

    watch: (type, options) => {
      const namespace = type.namespaced ? options?.namespace : undefined
      const operation = () => `watch ${describe(type)}${namespace === undefined ? "" : ` in ${namespace}`}`
      return transport.stream(collectionPath(type, namespace) + watchQuery(options), operation, (line) =>
        decodeWatchEvent(type, line, operation),
      )
    },
  }
}

/** A client on the KubeConfig in context; its connections close with the layer. */
export const make = (
  options: Partial<KubeClientOptions> = {},
): Effect.Effect<KubeClientShape, KubeError, KubeConfig | Scope.Scope> =>
  Effect.gen(function* () {
    const config = yield* KubeConfig
    const resolved = { ...defaultOptions, ...options }
    const transport = yield* HttpTransport.make(config, resolved)
    return fromTransport(transport, resolved.fieldManager)
  })

export const layer: Layer.Layer<KubeClient, KubeError, KubeConfig> = Layer.scoped(KubeClient, make())

export const layerWith = (
  options: Partial<KubeClientOptions>,
): Layer.Layer<KubeClient, KubeError, KubeConfig> => Layer.scoped(KubeClient, make(options))

// -- encoding and decoding ------------------------------------------------------------------

const ScaleType: ResourceType<Scale & KubeObject> = {
  apiVersion: "autoscaling/v1",
  kind: "Scale",
  plural: "scale",
  namespaced: true,
}

const appendParam = (query: string, name: string, value: string | number | boolean | undefined): string =>
  value === undefined
    ? query
    : `${query}${query.length === 0 ? "?" : "&"}${name}=${encodeURIComponent(value)}`

const listQuery = (options: ListOptions | undefined): string => {
  if (options === undefined) return ""
  let query = ""
  query = appendParam(query, "labelSelector", options.labelSelector)
  query = appendParam(query, "fieldSelector", options.fieldSelector)
  query = appendParam(query, "limit", options.limit)
  query = appendParam(query, "continue", options.continue)
  query = appendParam(query, "resourceVersion", options.resourceVersion)
  query = appendParam(query, "resourceVersionMatch", options.resourceVersionMatch)
  return query
}

const watchQuery = (options: WatchOptions | undefined): string => {
  let query = "?watch=1"
  query = appendParam(query, "labelSelector", options?.labelSelector)
  query = appendParam(query, "fieldSelector", options?.fieldSelector)
  query = appendParam(query, "resourceVersion", options?.resourceVersion)
  query = appendParam(query, "allowWatchBookmarks", options?.allowWatchBookmarks)
  query = appendParam(query, "timeoutSeconds", options?.timeoutSeconds)
  return query
}

// Custom resources and server-side apply need apiVersion and kind in the body; callers may omit them.
const withTypeMeta = <T extends KubeObject>(type: ResourceInfo, object: T): T =>
  object.apiVersion !== undefined && object.kind !== undefined
    ? object
    : { ...object, apiVersion: type.apiVersion, kind: type.kind }

// biome-ignore lint/suspicious/noExplicitAny: schemas of any encoded shape
type AnySchema<T> = Schema.Schema<T, any>

const decoders = new WeakMap<object, (input: unknown) => Effect.Effect<unknown, ParseResult.ParseError>>()
const encoders = new WeakMap<object, (input: unknown) => Effect.Effect<unknown, ParseResult.ParseError>>()

// Unknown fields survive a round trip through the schema.
const parseOptions = { onExcessProperty: "preserve" } as const

const decoder = <T>(schema: AnySchema<T>) => {
  let found = decoders.get(schema)
  if (found === undefined) {
    found = Schema.decodeUnknown(schema, parseOptions)
    decoders.set(schema, found)
  }
  return found as (input: unknown) => Effect.Effect<T, ParseResult.ParseError>
}

const encoder = <T>(schema: AnySchema<T>) => {
  let found = encoders.get(schema)
  if (found === undefined) {
    found = Schema.encodeUnknown(schema, parseOptions)
    encoders.set(schema, found)
  }
  return found as (input: T) => Effect.Effect<unknown, ParseResult.ParseError>
}

const invalidObject = (operation: string, error: ParseResult.ParseError): KubeError =>
  new KubeError({
    reason: "Unknown",
    status: 0,
    message: `object does not match its schema: ${ParseResult.TreeFormatter.formatErrorSync(error)}`,
    operation,
  })

/** Strips managedFields and, for kinds with a schema, decodes. */
export const decode = <T extends KubeObject>(
  type: ResourceType<T>,
  body: unknown,
  operation: () => string,
): Effect.Effect<T, KubeError> => {
  stripManagedFields(body)
  return type.schema === undefined
    ? Effect.succeed(body as T)
    : Effect.mapError(decoder(type.schema)(body), (error) => invalidObject(operation(), error))
}

const eitherDecoders = new WeakMap<
  object,
  (input: unknown) => Either.Either<unknown, ParseResult.ParseError>
>()

const eitherDecoder = <T>(schema: AnySchema<T>) => {
  let found = eitherDecoders.get(schema)
  if (found === undefined) {
    found = Schema.decodeUnknownEither(schema, parseOptions)
    eitherDecoders.set(schema, found)
  }
  return found as (input: unknown) => Either.Either<T, ParseResult.ParseError>
}

/** `decode` without an Effect, for a watch's every event (the kinds' schemas are synchronous). */
const decodeNow = <T extends KubeObject>(
  type: ResourceType<T>,
  body: unknown,
  operation: () => string,
): Either.Either<T, KubeError> => {
  stripManagedFields(body)
  return type.schema === undefined
    ? Either.right(body as T)
    : Either.mapLeft(eitherDecoder(type.schema)(body), (error) => invalidObject(operation(), error))
}

const decodeList = <T extends KubeObject>(
  type: ResourceType<T>,
  body: unknown,
  operation: () => string,
): Effect.Effect<ObjectList<T>, KubeError> => {
  const list = body as {
    items?: Array<unknown> | null
    metadata?: { resourceVersion?: string; continue?: string }
  }
  const items = list.items ?? []
  const page = {
    resourceVersion: list.metadata?.resourceVersion ?? "",
    continue: list.metadata?.continue === "" ? undefined : list.metadata?.continue,
  }
  if (type.schema === undefined) {
    for (const item of items) stripManagedFields(item)
    return Effect.succeed({ items: items as Array<T>, ...page })
  }
  return Effect.map(
    Effect.forEach(items, (item) => decode(type, item, operation)),
    (decoded) => ({ items: decoded, ...page }),
  )
}

/** One watch line as an event, synchronously (the transport reads every line of a watch with it). */
const decodeWatchEvent = <T extends KubeObject>(
  type: ResourceType<T>,
  line: unknown,
  operation: () => string,
): Either.Either<WatchEvent<T>, KubeError> => {
  const event = line as { type?: string; object?: { code?: number; metadata?: { resourceVersion?: string } } }
  switch (event.type) {
    case "ADDED":
    case "MODIFIED":
    case "DELETED": {
      const eventType = event.type
      return Either.map(decodeNow(type, event.object, operation), (object) => ({ type: eventType, object }))
    }
    case "BOOKMARK":
      return Either.right({
        type: "BOOKMARK",
        resourceVersion: event.object?.metadata?.resourceVersion ?? "",
      })
    case "ERROR":
      return Either.right({
        type: "ERROR",
        error: fromStatus(operation(), event.object?.code ?? 0, event.object),
      })
    default:
      return Either.left(
        new KubeError({
          reason: "Unknown",
          status: 0,
          message: `unexpected watch event type ${String(event.type)}`,
          operation: operation(),
        }),
      )
  }
}
