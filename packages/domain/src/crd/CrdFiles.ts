import { Either } from "effect"
import { stringify } from "yaml"
import type { CustomResourceDefinition } from "./CustomResourceDefinition.ts"
import * as SandboxCrds from "./SandboxCrds.ts"
import type { UnsupportedSchema } from "./StructuralSchema.ts"

/** A file of crds/: its name there and its whole content. */
export interface CrdFile {
  readonly name: string
  readonly content: string
}

const header = `# Generated from the Effect Schemas in packages/domain by packages/domain/scripts/write-crds.ts.
# Do not edit: change the Schemas and run \`npm run crds\` (\`npm test\` fails while this file is stale).
`

/** kubebuilder's naming, `<group>_<plural>.yaml`, which tools and readers expect. */
export const fileName = (crd: CustomResourceDefinition): string =>
  `${crd.spec.group}_${crd.spec.names.plural}.yaml`

export const render = (crd: CustomResourceDefinition): CrdFile => ({
  name: fileName(crd),
  // lineWidth 0: no folding, so a description is one line and diffs stay readable.
  content: `${header}${stringify(crd, { lineWidth: 0 })}`,
})

/** The content crds/ must have: one file per CRD. */
export const expected = (): Either.Either<ReadonlyArray<CrdFile>, UnsupportedSchema> =>
  Either.map(SandboxCrds.all(), (crds) => crds.map(render))

export interface StaleFile {
  readonly name: string
  readonly problem: "missing" | "differs" | "unexpected"
}

/**
 * How crds/ (its .yaml files by name) differs from what the Schemas generate. A .yaml there that
 * no Schema produces is stale too: a leftover of a renamed or removed CRD.
 */
export const staleFiles = (
  expectedFiles: ReadonlyArray<CrdFile>,
  onDisk: ReadonlyMap<string, string>,
): ReadonlyArray<StaleFile> => {
  const stale: Array<StaleFile> = []
  for (const file of expectedFiles) {
    const actual = onDisk.get(file.name)
    if (actual === undefined) stale.push({ name: file.name, problem: "missing" })
    else if (actual !== file.content) stale.push({ name: file.name, problem: "differs" })
  }
  const names = new Set(expectedFiles.map((file) => file.name))
  for (const name of onDisk.keys()) {
    if (!names.has(name)) stale.push({ name, problem: "unexpected" })
  }
  return stale
}
