/** The `filesystem.Filesystem` Connect service, backed by SandboxFiles and DirectoryWatch. */
import type { MessageInitShape } from "@bufbuild/protobuf"
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect"
import { Effect, Stream } from "effect"
import type { ConnectBridge } from "./ConnectBridge.ts"
import { DirectoryWatch } from "./DirectoryWatch.ts"
import { type EnvdError, envdError } from "./EnvdError.ts"
import type { Filesystem, WatchDirResponseSchema } from "./gen/filesystem/filesystem_pb.ts"
import * as KeepAlive from "./KeepAlive.ts"
import { SandboxFiles } from "./SandboxFiles.ts"
import type { SandboxTarget } from "./SandboxTarget.ts"

type WatchDirResponseInit = MessageInitShape<typeof WatchDirResponseSchema>

export const make = (
  bridge: ConnectBridge<SandboxFiles | DirectoryWatch>,
  targetOf: (context: HandlerContext) => Effect.Effect<SandboxTarget, EnvdError>,
  limits: { readonly maxListDepth: number } = { maxListDepth: 32 },
): ServiceImpl<typeof Filesystem> => {
  const withFiles = <A>(
    context: HandlerContext,
    use: (files: typeof SandboxFiles.Service, target: SandboxTarget) => Effect.Effect<A, EnvdError>,
  ) => Effect.flatMap(Effect.all([SandboxFiles, targetOf(context)]), ([files, target]) => use(files, target))

  const withWatch = <A, R>(
    context: HandlerContext,
    use: (watch: typeof DirectoryWatch.Service, target: SandboxTarget) => Effect.Effect<A, EnvdError, R>,
  ) =>
    Effect.flatMap(Effect.all([DirectoryWatch, targetOf(context)]), ([watch, target]) => use(watch, target))

  return {
    stat: (request, context) =>
      bridge.unary(
        context,
        withFiles(context, (files, target) =>
          Effect.map(files.stat(target, request.path), (entry) => ({ entry })),
        ),
      ),

    makeDir: (request, context) =>
      bridge.unary(
        context,
        withFiles(context, (files, target) =>
          Effect.map(files.makeDir(target, request.path), (entry) => ({ entry })),
        ),
      ),

    move: (request, context) =>
      bridge.unary(
        context,
        withFiles(context, (files, target) =>
          Effect.map(files.move(target, request.source, request.destination), (entry) => ({ entry })),
        ),
      ),

    listDir: (request, context) =>
      bridge.unary(
        context,
        withFiles(context, (files, target) =>
          // Depth 0 means the directory's own entries, as in envd.
          request.depth > limits.maxListDepth
            ? Effect.fail(
                envdError(
                  "invalid_argument",
                  `depth ${request.depth} is deeper than this server lists (at most ${limits.maxListDepth})`,
                ),
              )
            : Effect.map(
                files.listDir(target, request.path, request.depth === 0 ? 1 : request.depth),
                (entries) => ({
                  entries,
                }),
              ),
        ),
      ),

    remove: (request, context) =>
      bridge.unary(
        context,
        withFiles(context, (files, target) => Effect.as(files.remove(target, request.path), {})),
      ),

    watchDir: (request, context) =>
      bridge.stream(
        context,
        Stream.unwrapScoped(
          withWatch(context, (watch, target) =>
            Effect.map(watch.watch(target, request.path, request.recursive), (events) =>
              Stream.concat(
                Stream.succeed<WatchDirResponseInit>({ event: { case: "start", value: {} } }),
                Stream.map(
                  events,
                  (event): WatchDirResponseInit => ({
                    event: { case: "filesystem", value: { name: event.name, type: event.type } },
                  }),
                ),
              ),
            ),
          ),
        ),
        KeepAlive.fromHeader(
          { event: { case: "keepalive", value: {} } } satisfies WatchDirResponseInit,
          context.requestHeader.get("keepalive-ping-interval"),
        ),
      ),

    createWatcher: (request, context) =>
      bridge.unary(
        context,
        withWatch(context, (watch, target) =>
          Effect.map(watch.createWatcher(target, request.path, request.recursive), (watcherId) => ({
            watcherId,
          })),
        ),
      ),

    getWatcherEvents: (request, context) =>
      bridge.unary(
        context,
        withWatch(context, (watch, target) =>
          Effect.map(watch.takeEvents(target, request.watcherId), (events) => ({
            events: events.map((event) => ({ name: event.name, type: event.type })),
          })),
        ),
      ),

    removeWatcher: (request, context) =>
      bridge.unary(
        context,
        withWatch(context, (watch, target) => Effect.as(watch.removeWatcher(target, request.watcherId), {})),
      ),
  }
}
