/**
 * What a transport has on the wire, so that closing it ends all of that before the connection
 * pools go: closing aborts every request and watch, waits until each request has let go of its
 * connection, and only then may the pools be destroyed. Tearing an HTTP/2 session down while its
 * streams are still being reset is what crashes (Node's http2 has aborted the process with
 * `std::bad_alloc` there), and a pool closed under running requests fails them with undici's
 * ClientClosed/ClientDestroyed errors. Whatever fails once closing has begun is the closing's
 * doing: callers report it as an interruption, not as an error of the request.
 */
export interface InFlightRequests {
  /** True from the moment closing begins. */
  readonly closing: () => boolean
  /**
   * Starts a request with a signal of its own, which `abort` (the caller gone) or the start of
   * closing aborts; held until its promise settles. Rejects at once, without starting it, once
   * closing has begun. One controller per request: no second signal to forward from.
   */
  readonly start: <A>(run: (signal: AbortSignal) => Promise<A>) => Started<A>
  /** Something longer-lived than one promise (a watch and its body): held until `release`. */
  readonly open: () => Held
  /** Begins closing: aborts everything held and resolves once every request has settled. */
  readonly close: () => Promise<void>
}

export interface Started<A> {
  readonly promise: Promise<A>
  readonly abort: (reason?: unknown) => void
}

export interface Held {
  /** Aborts when `abort` is called or closing begins (already aborted if closing has begun). */
  readonly signal: AbortSignal
  readonly abort: (reason?: unknown) => void
  /** Closing waits for this promise to settle before it resolves. */
  readonly settles: (promise: Promise<unknown>) => void
  readonly release: () => void
}

export class TransportClosingError extends Error {
  constructor() {
    super("the Kubernetes client is closing")
    this.name = "TransportClosingError"
  }
}

interface Entry {
  readonly controller: AbortController
  settled: Promise<void>
}

const ignore = () => {}

export const make = (): InFlightRequests => {
  let closing = false
  const entries = new Set<Entry>()

  const open = (): Held => {
    const entry: Entry = { controller: new AbortController(), settled: Promise.resolve() }
    if (closing) entry.controller.abort(new TransportClosingError())
    else entries.add(entry)
    return {
      signal: entry.controller.signal,
      abort: (reason) => entry.controller.abort(reason),
      settles: (promise) => {
        entry.settled = promise.then(ignore, ignore)
      },
      release: () => entries.delete(entry),
    }
  }

  return {
    closing: () => closing,
    open,
    start: <A>(run: (signal: AbortSignal) => Promise<A>): Started<A> => {
      if (closing) return { promise: Promise.reject(new TransportClosingError()), abort: ignore }
      const entry: Entry = { controller: new AbortController(), settled: Promise.resolve() }
      entries.add(entry)
      const promise = run(entry.controller.signal)
      const done = () => {
        entries.delete(entry)
      }
      entry.settled = promise.then(done, done)
      return { promise, abort: (reason) => entry.controller.abort(reason) }
    },
    close: async () => {
      closing = true
      const pending = [...entries]
      for (const entry of pending) entry.controller.abort(new TransportClosingError())
      await Promise.all(pending.map((entry) => entry.settled))
    },
  }
}
