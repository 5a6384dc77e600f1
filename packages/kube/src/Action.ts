import { Duration } from "effect"

/** What a reconcile asks for next (kube-rs's Action). */
export type Action =
  | { readonly _tag: "Requeue"; readonly after: Duration.Duration }
  /** Nothing until a trigger names the object again. */
  | { readonly _tag: "AwaitChange" }

export const requeue = (after: Duration.DurationInput): Action => ({
  _tag: "Requeue",
  after: Duration.decode(after),
})

export const awaitChange: Action = { _tag: "AwaitChange" }
