/** How the CLI prints what it got: JSON for scripts, an aligned table for people. */
export type OutputFormat = "json" | "table"

export interface Column<A> {
  readonly header: string
  readonly cell: (row: A) => string
}

/** A plain text table: one header line, columns padded to their widest cell. */
export const table = <A>(columns: ReadonlyArray<Column<A>>, rows: ReadonlyArray<A>): string => {
  const cells = [columns.map((c) => c.header), ...rows.map((row) => columns.map((c) => c.cell(row)))]
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)))
  return cells
    .map((line) =>
      line
        .map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")
}

export const render = <A>(
  format: OutputFormat,
  columns: ReadonlyArray<Column<A>>,
  rows: ReadonlyArray<A>,
  json: unknown,
): string => (format === "json" ? JSON.stringify(json, null, 2) : table(columns, rows))
