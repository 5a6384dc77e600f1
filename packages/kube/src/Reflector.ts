import { Stream } from "effect"
import type { Writer } from "./Store.ts"
import type { WatcherEvent } from "./WatcherEvent.ts"

/** Feeds a watcher's events into the store's writer and passes them on unchanged. */
export const reflector =
  <T>(writer: Writer<T>) =>
  <E, R>(stream: Stream.Stream<WatcherEvent<T>, E, R>): Stream.Stream<WatcherEvent<T>, E, R> =>
    Stream.tap(stream, writer.apply)
