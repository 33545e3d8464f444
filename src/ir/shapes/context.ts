// What a shape rule sees of one node: its inputs' shapes and known values, and a way to
// say why it could not give an output shape.
import type { Dim, Graph, Node } from '../graph.js';

export interface ValueShape {
  elemType?: number;
  /** undefined when the rank is unknown. */
  dims?: Dim[];
  /**
   * The elements of a small tensor (rank <= 1) when they are known: numbers, symbolic
   * dims, or null for an element not known. Shape arithmetic (Shape -> Gather -> Concat
   * -> Reshape) is followed through these, like onnx's data propagation.
   */
  value?: Dim[];
}

export type ShapeMap = Map<string, ValueShape>;

/** Values of at most this many elements are tracked: shape vectors, indices, scalars. */
export const MAX_VALUE_LENGTH = 64;

export interface RuleContext {
  node: Node;
  ins: (ValueShape | undefined)[];
  /** The dims of input i, when its rank is known. */
  dims(i: number): Dim[] | undefined;
  /** The elements of input i, when the tensor is small and its length is known (some may be null). */
  value(i: number): Dim[] | undefined;
  /** The elements of input i when every one is a known number. */
  numbers(i: number): number[] | undefined;
  /** Records why an output shape is not known; returns undefined for `return ctx.why(...)`. */
  why(reason: string): undefined;
  /** Describes where input i comes from, for a reason: "'x' (from NonZero 'nz')". */
  source(i: number): string;
  /** Shapes inside a subgraph of the node (If branches), seeing the values known so far. */
  subgraph(g: Graph): ShapeMap;
}

/** An axis attribute as a non-negative index; with `clamp`, limited to [0, rank]. */
export function norm(axis: number, rank: number, clamp = false): number {
  let a = axis < 0 ? axis + rank : axis;
  if (clamp) a = Math.min(Math.max(a, 0), rank);
  return a;
}

/** Axes from the attribute (older opsets) or from input `inputIndex` (newer ones). */
export function axesOf(ctx: RuleContext, inputIndex: number): number[] | undefined {
  return ctx.node.getInts('axes') ?? (ctx.node.inputs[inputIndex] ? ctx.numbers(inputIndex) : undefined);
}
