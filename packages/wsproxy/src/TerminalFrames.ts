/**
 * What the page and wsproxy say over the terminal WebSocket: binary messages are terminal bytes
 * (keystrokes in, screen out); text messages are control, today one kind:
 * `{"type":"resize","cols":N,"rows":N}`.
 */
import { Either, Schema } from "effect"

const Dimension = Schema.Int.pipe(Schema.between(1, 1000))

export const Resize = Schema.Struct({
  type: Schema.Literal("resize"),
  cols: Dimension,
  rows: Dimension,
})
export type Resize = typeof Resize.Type

/** The size the terminal starts with: `?cols=&rows=` of the WebSocket URL, else 80x24. */
export const initialSize = (params: URLSearchParams): { readonly cols: number; readonly rows: number } => {
  const dimension = (value: string | null, fallback: number) => {
    const n = Number(value ?? Number.NaN)
    return Number.isInteger(n) && n >= 1 && n <= 1000 ? n : fallback
  }
  return { cols: dimension(params.get("cols"), 80), rows: dimension(params.get("rows"), 24) }
}

const decodeControl = Schema.decodeUnknownEither(Schema.parseJson(Resize))

export type Incoming =
  | { readonly _tag: "Input"; readonly bytes: Uint8Array }
  | { readonly _tag: "Resize"; readonly cols: number; readonly rows: number }
  | { readonly _tag: "Invalid"; readonly message: string }

export const parse = (data: Uint8Array, isBinary: boolean): Incoming => {
  if (isBinary) return { _tag: "Input", bytes: data }
  const control = decodeControl(new TextDecoder().decode(data))
  return Either.isRight(control)
    ? { _tag: "Resize", cols: control.right.cols, rows: control.right.rows }
    : { _tag: "Invalid", message: "a text message must be {type:'resize', cols, rows} (1..1000 each)" }
}

/** Close codes the page shows; 4xxx are ours (the WebSocket range for applications). */
export const CloseCode = {
  /** The shell exited; the reason carries its exit code. */
  exited: 1000,
  /** wsproxy is stopping. */
  goingAway: 1001,
  /** A text message that is not a control message. */
  invalid: 1008,
  /** The exec broke (sandbox gone, API server unreachable). */
  failed: 1011,
  unauthorized: 4401,
  notFound: 4404,
  idle: 4408,
  tooMany: 4429,
} as const
