import { Either, type Schema } from "effect"
import { fromSchema, type Structural, type UnsupportedSchema } from "./StructuralSchema.ts"

export interface PrinterColumn {
  readonly name: string
  readonly type: "integer" | "number" | "string" | "boolean" | "date"
  readonly jsonPath: string
  readonly description?: string
  /** 0: shown by `kubectl get`; 1 and more: only with `-o wide`. */
  readonly priority?: number
}

export interface ScaleSubresource {
  readonly specReplicasPath: string
  readonly statusReplicasPath: string
  readonly labelSelectorPath?: string
}

/** apiextensions.k8s.io/v1 CustomResourceDefinition, the fields this project writes. */
export interface CustomResourceDefinition {
  readonly apiVersion: "apiextensions.k8s.io/v1"
  readonly kind: "CustomResourceDefinition"
  readonly metadata: { readonly name: string }
  readonly spec: {
    readonly group: string
    readonly names: {
      readonly kind: string
      readonly listKind: string
      readonly plural: string
      readonly singular: string
      readonly shortNames: ReadonlyArray<string>
      readonly categories: ReadonlyArray<string>
    }
    readonly scope: "Cluster" | "Namespaced"
    readonly versions: ReadonlyArray<{
      readonly name: string
      readonly served: boolean
      readonly storage: boolean
      readonly schema: { readonly openAPIV3Schema: Structural }
      readonly subresources?: { readonly status?: Record<string, never>; readonly scale?: ScaleSubresource }
      readonly additionalPrinterColumns?: ReadonlyArray<PrinterColumn>
    }>
  }
}

/** One resource kind served at one version, its Schema being the whole object (apiVersion, kind, metadata, spec, status). */
export interface CustomResource<A, I> {
  readonly group: string
  readonly version: string
  readonly kind: string
  readonly plural: string
  readonly singular: string
  readonly shortNames: ReadonlyArray<string>
  readonly categories: ReadonlyArray<string>
  readonly scope: "Cluster" | "Namespaced"
  readonly schema: Schema.Schema<A, I>
  readonly scale?: ScaleSubresource
  readonly printerColumns: ReadonlyArray<PrinterColumn>
}

/**
 * The CRD of a resource. The schema's root only requires `spec`: apiVersion, kind and metadata
 * are the API server's to check (metadata is declared as a bare object). A `status` property turns on the status subresource.
 */
export const make = <A, I>(
  resource: CustomResource<A, I>,
): Either.Either<CustomResourceDefinition, UnsupportedSchema> =>
  Either.map(fromSchema(resource.schema), (root) => {
    const hasStatus = root.properties?.status !== undefined
    const openAPIV3Schema: Structural = {
      ...root,
      // The API server owns metadata: a CRD may only narrow name and generateName, with no
      // other keyword (not even a description).
      properties: {
        ...root.properties,
        ...(root.properties?.metadata === undefined ? {} : { metadata: { type: "object" } }),
      },
      required: (root.required ?? []).filter((name) => name === "spec"),
    }
    return {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: `${resource.plural}.${resource.group}` },
      spec: {
        group: resource.group,
        names: {
          kind: resource.kind,
          listKind: `${resource.kind}List`,
          plural: resource.plural,
          singular: resource.singular,
          shortNames: resource.shortNames,
          categories: resource.categories,
        },
        scope: resource.scope,
        versions: [
          {
            name: resource.version,
            served: true,
            storage: true,
            schema: { openAPIV3Schema },
            ...(hasStatus || resource.scale !== undefined
              ? {
                  subresources: {
                    ...(hasStatus ? { status: {} } : {}),
                    ...(resource.scale === undefined ? {} : { scale: resource.scale }),
                  },
                }
              : {}),
            additionalPrinterColumns: resource.printerColumns,
          },
        ],
      },
    }
  })
