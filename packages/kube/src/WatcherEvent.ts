/**
 * What a watcher tells its consumer, after kube-rs: a (re)list arrives as Init, InitApply for
 * each object, InitDone; then live changes arrive as Apply (added or modified) and Delete.
 * A consumer that keeps a cache replaces it wholesale between Init and InitDone.
 */
export type WatcherEvent<T> =
  | { readonly _tag: "Init" }
  | { readonly _tag: "InitApply"; readonly object: T }
  | { readonly _tag: "InitDone" }
  | { readonly _tag: "Apply"; readonly object: T }
  | { readonly _tag: "Delete"; readonly object: T }

export const Init: WatcherEvent<never> = { _tag: "Init" }
export const InitDone: WatcherEvent<never> = { _tag: "InitDone" }
export const InitApply = <T>(object: T): WatcherEvent<T> => ({ _tag: "InitApply", object })
export const Apply = <T>(object: T): WatcherEvent<T> => ({ _tag: "Apply", object })
export const Delete = <T>(object: T): WatcherEvent<T> => ({ _tag: "Delete", object })

/** The object an event carries, if any. */
export const objectOf = <T>(event: WatcherEvent<T>): T | undefined =>
  event._tag === "InitApply" || event._tag === "Apply" || event._tag === "Delete" ? event.object : undefined
