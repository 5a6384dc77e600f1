import { Schema } from "effect"
import { extend } from "../crd/KubeExtensions.ts"
import { DnsLabel } from "./Names.ts"

/** Fields beyond the declared ones are kept as they are (decoding and the API server alike). */
const AnyFields = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/** A core/v1 Container: its name and image are read here; the rest passes through untouched. */
export const Container = Schema.Struct(
  {
    name: DnsLabel.annotations({ description: "The container's name, unique within the Pod." }),
    image: Schema.optionalWith(Schema.String.pipe(Schema.minLength(1)), { exact: true }).annotations({
      description: "The container image. A runtime's image replaces it when that runtime is requested.",
    }),
  },
  AnyFields,
).annotations({
  description: "A core/v1 Container. Every Container field is accepted as in a Pod.",
})
export type Container = typeof Container.Type

/** Bounded so CEL rules that look through the containers stay within the API server's cost budget. */
export const maxContainers = 64

export const PodSpec = Schema.Struct(
  {
    containers: Schema.NonEmptyArray(Container)
      .pipe(Schema.maxItems(maxContainers))
      .annotations({
        description: `The Pod's containers (1 to ${maxContainers}); one of them is the sandbox container.`,
      }),
  },
  AnyFields,
).annotations({
  description:
    "A core/v1 PodSpec. Every PodSpec field is accepted; containers must list at least one container.",
})
export type PodSpec = typeof PodSpec.Type

export const PodTemplateMetadata = Schema.Struct(
  {
    labels: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.String }), {
      exact: true,
    }).annotations({ description: "Labels added to every sandbox Pod (the operator adds its own as well)." }),
    annotations: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.String }), {
      exact: true,
    }).annotations({ description: "Annotations added to every sandbox Pod." }),
  },
  AnyFields,
).annotations({ description: "Labels and annotations for the sandbox Pods." })

/**
 * A core/v1 PodTemplateSpec the sandbox Pods are made from. It is embedded as an open object
 * (not a Kubernetes resource with its own apiVersion/kind): the API server keeps every field,
 * and this Schema only insists on what the operator relies on.
 */
export const PodTemplate = Schema.Struct(
  {
    metadata: Schema.optionalWith(PodTemplateMetadata, { exact: true }),
    spec: PodSpec,
  },
  AnyFields,
).pipe(
  extend({ "x-kubernetes-embedded-resource": false }),
  Schema.annotations({
    description:
      "The Pod template sandbox Pods are created from: metadata (labels, annotations) and a core/v1 PodSpec with at least one container.",
  }),
)
export type PodTemplate = typeof PodTemplate.Type
