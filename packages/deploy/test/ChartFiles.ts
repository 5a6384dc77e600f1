import { join } from "node:path"
import { Effect } from "effect"
import { parseAllDocuments } from "yaml"
import { Helm } from "../src/index.ts"

export const chartDir = join(import.meta.dirname, "../../../chart")

/** What `helm template` prints, as objects. */
export interface Rendered {
  readonly apiVersion: string
  readonly kind: string
  readonly metadata: {
    readonly name: string
    readonly namespace?: string
    readonly labels?: Record<string, string>
    readonly annotations?: Record<string, string>
  }
  // biome-ignore lint/suspicious/noExplicitAny: rendered manifests of every kind
  readonly [field: string]: any
}

export const parseManifests = (text: string): ReadonlyArray<Rendered> =>
  parseAllDocuments(text)
    .map((doc) => doc.toJS() as Rendered | null)
    .filter((doc): doc is Rendered => doc !== null)

/** `helm template` of the chart with `--set` values, for a 1.26 API server (the oldest supported). */
export const template = (release: string, namespace: string, values: Record<string, string> = {}) =>
  Effect.flatMap(Helm.Helm, (helm) =>
    helm.run([
      "template",
      release,
      chartDir,
      "--namespace",
      namespace,
      "--kube-version",
      "1.26.0",
      ...Object.entries(values).flatMap(([k, v]) => ["--set", `${k}=${v}`]),
    ]),
  ).pipe(Effect.map(({ stdout }) => parseManifests(stdout)))

export const find = (objects: ReadonlyArray<Rendered>, kind: string, name?: string): Rendered => {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name))
  if (found === undefined) throw new Error(`no ${kind} ${name ?? ""} rendered`)
  return found
}
