import { Schema } from "effect"
import { listMap } from "../crd/KubeExtensions.ts"
import { NonNegativeInt, Timestamp } from "./Names.ts"

export const ConditionStatus = Schema.Literal("True", "False", "Unknown").annotations({
  description: "Whether the condition holds: True, False or Unknown.",
})
export type ConditionStatus = typeof ConditionStatus.Type

/** metav1.Condition: one observation of an aspect of the object's state. */
export const Condition = Schema.Struct({
  type: Schema.String.pipe(
    Schema.minLength(1),
    Schema.maxLength(316),
    Schema.pattern(
      /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/,
    ),
  ).annotations({
    description: "The aspect the condition describes, in CamelCase (e.g. Ready, Progressing).",
  }),
  status: ConditionStatus,
  observedGeneration: Schema.optionalWith(NonNegativeInt, { exact: true }).annotations({
    description: "The metadata.generation the condition was set from; older than the object's means stale.",
  }),
  lastTransitionTime: Timestamp.annotations({ description: "When the status last changed." }),
  reason: Schema.String.pipe(
    Schema.minLength(1),
    Schema.maxLength(1024),
    Schema.pattern(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/),
  ).annotations({ description: "A CamelCase, machine-readable reason for the last transition." }),
  message: Schema.String.pipe(Schema.maxLength(32768)).annotations({
    description: "A human-readable explanation of the last transition; may be empty.",
  }),
}).annotations({ description: "One aspect of the object's state, as last observed (a metav1.Condition)." })
export type Condition = typeof Condition.Type

/** A list of conditions keyed by type, as metav1 defines it. */
export const Conditions = Schema.Array(Condition).pipe(listMap("type")).annotations({
  description: "The latest observations of the object's state, one per condition type.",
})
