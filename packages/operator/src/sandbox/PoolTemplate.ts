import {
  ImageNotAllowed,
  InvalidRequest,
  type SandboxPool,
  type SandboxTemplate,
  type SandboxTemplateSpec,
} from "@agent-sandbox/domain"
import type { Store } from "@agent-sandbox/kube"
import { Effect, Either, Option } from "effect"
import * as ImagePolicy from "./ImagePolicy.ts"
import * as PodFactory from "./PodFactory.ts"

export interface ResolvedTemplate {
  /** The SandboxTemplate's name, or "inline". */
  readonly name: string
  readonly spec: SandboxTemplateSpec
}

/** The pool's template: its inline one, or the SandboxTemplate it refers to (if that exists). */
export const resolve = (
  pool: SandboxPool,
  templates: Store.Store<SandboxTemplate>,
): Effect.Effect<Option.Option<ResolvedTemplate>> =>
  pool.spec.template !== undefined
    ? Effect.succeed(Option.some({ name: "inline", spec: pool.spec.template as SandboxTemplateSpec }))
    : Effect.map(templates.get(pool.spec.templateRef?.name ?? ""), (t) =>
        Option.map(t, (template) => ({ name: template.metadata.name ?? "", spec: template.spec })),
      )

/** What the pool's idle Pods should be now (undefined without a template). */
export const targetOf = (
  pool: SandboxPool,
  template: Option.Option<ResolvedTemplate>,
): PodFactory.PodTarget | undefined =>
  Option.match(template, {
    onNone: () => undefined,
    onSome: (t) => PodFactory.target(t.spec, pool.spec.useIdleImage),
  })

/** The image a request gets, and the runtime it chose (env is applied by the data plane). */
export interface Wanted {
  readonly image: string
  readonly runtime: { readonly name: string; readonly env: Readonly<Record<string, string>> } | undefined
}

/**
 * A request's image: a runtime of the template by name, an image named outright, or the
 * template's own (not the idle image: that is what idle Pods wait on, not what sandboxes run).
 * An image named outright must be one the template allows (ImagePolicy).
 */
export const wanted = (
  template: Option.Option<ResolvedTemplate>,
  request: { readonly runtime?: string | undefined; readonly image?: string | undefined },
): Either.Either<Wanted | undefined, InvalidRequest | ImageNotAllowed> => {
  const invalid = (message: string) => Either.left(new InvalidRequest({ message }))
  if (request.runtime !== undefined && request.image !== undefined) {
    return invalid("name a runtime or an image, not both")
  }
  if (Option.isNone(template)) {
    return request.runtime === undefined && request.image === undefined
      ? Either.right(undefined)
      : invalid("the pool has no template (yet): no runtime or image can be chosen")
  }
  const spec = template.value.spec
  if (request.runtime !== undefined) {
    const runtime = spec.runtimes.find((r) => r.name === request.runtime)
    if (runtime === undefined) {
      const known = spec.runtimes.map((r) => r.name).join(", ")
      return invalid(`runtime '${request.runtime}' is not one of the template's (${known || "none"})`)
    }
    return Either.right({
      image: runtime.image,
      runtime: {
        name: runtime.name,
        env: Object.fromEntries((runtime.env ?? []).map((e) => [e.name, e.value])),
      },
    })
  }
  if (request.image !== undefined && !ImagePolicy.allows(spec, request.image)) {
    return Either.left(
      new ImageNotAllowed({
        image: request.image,
        message: `image '${request.image}' is not allowed by template '${template.value.name}': name one of its runtimes, or an image its allowedImages lists`,
      }),
    )
  }
  const image = request.image ?? PodFactory.sandboxContainerOf(spec).image ?? ""
  return Either.right({ image, runtime: undefined })
}
