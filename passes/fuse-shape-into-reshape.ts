// Reshape(x, Concat(Shape(y)[a:b] or Unsqueeze(size expression), constants)) is Reshape(x,
// constant) when every dim taken from y is either known (a number: written as it is) or x's
// own symbolic dim at the same position (written 0, "copy this dim"). A size expression is
// Gather(Shape(y), i), or integer arithmetic on such and constants, as PyTorch exports
// x.size(i) and c // g. PyTorch exports flatten and view(x.size(0), ...) this way with a
// dynamic batch; the constant shape lets the Shape chain go and later passes (the channel
// shuffle's among them) see a static Reshape. Sizes come from dims derived from the inputs
// and initializers only: a declared value_info is not checked by onnxruntime, so a number
// taken from one could be wrong at run time.
import type { Graph, Node } from '../src/ir/graph.js';
import { attr } from '../src/ir/graph.js';
import type { Dim } from '../src/ir/graph.js';
import { DataType } from '../src/ir/dtype.js';
import { NameAllocator, addInitializer, setInput } from '../src/ir/mutate.js';
import { inferDerivedShapes, type ShapeMap } from '../src/ir/shapes.js';
import { Tensor } from '../src/ir/tensor.js';
import { matched, noMatch, rulePass, type GraphIndex, type Match } from '../src/pass/rule.js';

interface ShapeMatch { reshape: Node; target: number[] }

export const fuseShapeIntoReshape = rulePass<ShapeMatch>('fuse-shape-into-reshape', 'replace a Reshape target built from Shape (and size arithmetic) by a constant: known sizes as numbers, 0 (copy) for the input\'s own symbolic dims', {
  rootOps: ['Reshape'],
  match(reshape, index): Match<ShapeMatch> {
    const concat = index.producerOf(reshape.inputs[1], 'Concat');
    if (!concat) return noMatch('target is not a Concat');
    const sizes = new SizeReader(index, inferDerivedShapes(index.graph));
    const data = sizes.shapes.get(reshape.inputs[0]!)?.dims;
    if (!data) return noMatch('input rank unknown');
    const target: number[] = [];
    for (const piece of concat.inputs) {
      const constant = index.constant(piece);
      if (constant) {
        const values = constant.toNumbers();
        if (values.includes(0) && reshape.getInt('allowzero', 0) === 1) return noMatch('a constant 0 would change meaning');
        target.push(...values);
        continue;
      }
      const dims = sizes.slice(piece);
      if (!dims) return noMatch(`'${piece}' is neither a constant nor a Shape slice`);
      for (const d of dims) {
        // 0 reads as "copy", so it stands only for a symbolic dim of x's own at that position.
        if (typeof d === 'number' && d > 0) target.push(d);
        else if (typeof d === 'string' && d === data[target.length]) target.push(0);
        else return noMatch('a Shape dim is neither known nor the input dim at its position');
      }
    }
    if (target.filter((v) => v === -1).length > 1) return noMatch('more than one -1');
    // With allowzero the 0 copies nothing; without it, 0 beside -1 over an empty tensor is what onnxruntime refuses.
    if (reshape.getInt('allowzero', 0) === 1 && target.includes(-1)) return noMatch('allowzero with a -1: copying dims would change meaning');
    return matched({ reshape, target });
  },
  apply({ reshape, target }, graph: Graph) {
    const name = new NameAllocator(graph).next(`${reshape.name || reshape.outputs[0]}_shape`);
    setInput(reshape, 1, addInitializer(graph, Tensor.fromTyped(name, DataType.INT64, [target.length], BigInt64Array.from(target.map(BigInt)))));
    if (reshape.attr('allowzero')) reshape.setAttr(attr.int('allowzero', 0));
    return ['fused'];
  },
});

/** Size arithmetic deeper than this is not followed (a stack overflow would end the optimize). */
const MAX_DEPTH = 64;

const ARITHMETIC: Record<string, (a: number, b: number) => number | undefined> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  // Integer Div truncates; on the non-negative sizes here that is floor division (c // g).
  Div: (a, b) => (b > 0 && a >= 0 ? Math.floor(a / b) : undefined),
};

/** Reads Shape slices and scalar size expressions, each value once (chained arithmetic stays linear). */
class SizeReader {
  private readonly sizes = new Map<string, Dim | undefined>();
  constructor(private readonly index: GraphIndex, readonly shapes: ShapeMap) {}

  /**
   * The dims a Shape node (with start/end) reports, when its input's shape is known; or the
   * one dim of Unsqueeze(size expression, axes [0]), how PyTorch exports x.size(0) for view().
   */
  slice(name: string, depth = 0): Dim[] | undefined {
    const unsqueeze = this.index.producerOf(name, 'Unsqueeze');
    if (unsqueeze) {
      const axes = unsqueeze.getInts('axes') ?? this.index.constant(unsqueeze.inputs[1])?.toNumbers();
      if (axes?.length !== 1 || axes[0] !== 0) return undefined;
      const dim = this.size(unsqueeze.inputs[0]!, depth + 1);
      return dim === undefined ? undefined : [dim];
    }
    const shape = this.index.producerOf(name, 'Shape');
    if (!shape) return undefined;
    const dims = this.shapes.get(shape.inputs[0]!)?.dims;
    if (!dims) return undefined;
    const rank = dims.length;
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
    return dims.slice(clamp(shape.getInt('start', 0)), clamp(shape.getInt('end', rank)));
  }

  /** A scalar size: Gather(Shape slice, i), an integer constant, or Add/Sub/Mul/Div of two known ones. */
  size(name: string, depth = 0): Dim | undefined {
    if (this.sizes.has(name)) return this.sizes.get(name);
    if (depth > MAX_DEPTH) return undefined;
    this.sizes.set(name, undefined); // a cycle reads as unknown
    const value = this.read(name, depth);
    this.sizes.set(name, value);
    return value;
  }

  private read(name: string, depth: number): Dim | undefined {
    const constant = this.index.constant(name);
    if (constant) {
      const isInteger = constant.dataType === DataType.INT64 || constant.dataType === DataType.INT32;
      const value = isInteger && constant.dims.reduce((a, b) => a * b, 1) === 1 ? constant.toNumbers()[0] : undefined;
      // An int64 past 2^53 is not read exactly as a number.
      return value !== undefined && Number.isSafeInteger(value) ? value : undefined;
    }
    const gather = this.index.producerOf(name, 'Gather');
    if (gather) {
      const at = this.index.constant(gather.inputs[1]);
      if (gather.getInt('axis', 0) !== 0 || !at || at.dims.length !== 0) return undefined;
      const dims = this.slice(gather.inputs[0]!, depth + 1);
      const i = at.toNumbers()[0]!;
      return dims && i >= -dims.length && i < dims.length ? dims[i < 0 ? i + dims.length : i] : undefined;
    }
    for (const [op, apply] of Object.entries(ARITHMETIC)) {
      const node = this.index.producerOf(name, op);
      if (!node) continue;
      const [a, b] = node.inputs.map((input) => this.size(input, depth + 1));
      const value = typeof a === 'number' && typeof b === 'number' ? apply(a, b) : undefined;
      return value !== undefined && Number.isSafeInteger(value) ? value : undefined;
    }
    return undefined;
  }
}
