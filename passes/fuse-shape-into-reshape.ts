// Reshape(x, Concat(Shape(y)[a:b] or Unsqueeze(Gather(Shape(y), i)), constants)) where the
// dims taken from y are x's own dims at the same positions is Reshape(x, constant) with 0
// ("copy this dim") in those places. PyTorch exports flatten and view(x.size(0), ...) this
// way (batch dim from Shape); the constant shape then lets
// the Shape/Concat chain go and later passes see a static Reshape.
import type { Graph, Node } from '../src/ir/graph.js';
import { attr } from '../src/ir/graph.js';
import type { Dim } from '../src/ir/graph.js';
import { DataType } from '../src/ir/dtype.js';
import { NameAllocator, addInitializer, setInput } from '../src/ir/mutate.js';
import { inferShapes } from '../src/ir/shapes.js';
import { Tensor } from '../src/ir/tensor.js';
import { matched, noMatch, rulePass, type GraphIndex, type Match } from '../src/pass/rule.js';

interface ShapeMatch { reshape: Node; target: number[] }

export const fuseShapeIntoReshape = rulePass<ShapeMatch>('fuse-shape-into-reshape', 'replace a Reshape target built from Shape of the same dims by a constant with 0 (copy) entries', {
  rootOps: ['Reshape'],
  match(reshape, index): Match<ShapeMatch> {
    const concat = index.producerOf(reshape.inputs[1], 'Concat');
    if (!concat) return noMatch('target is not a Concat');
    const shapes = inferShapes(index.graph);
    const data = shapes.get(reshape.inputs[0]!)?.dims;
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
      const dims = shapeSlice(index, piece, shapes);
      if (!dims) return noMatch(`'${piece}' is neither a constant nor a Shape slice`);
      for (const d of dims) {
        if (!sameDim(d, data[target.length])) return noMatch('Shape dims are not the input dims at the same positions');
        target.push(0);
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

/**
 * The dims a Shape node (with start/end) reports, when its input's shape is known; or the one
 * dim of Unsqueeze(Gather(Shape(y), i), axes [0]), how PyTorch exports x.size(0) for view().
 */
function shapeSlice(index: GraphIndex, name: string, shapes: ReturnType<typeof inferShapes>): Dim[] | undefined {
  const unsqueeze = index.producerOf(name, 'Unsqueeze');
  if (unsqueeze) {
    const axes = unsqueeze.getInts('axes') ?? index.constant(unsqueeze.inputs[1])?.toNumbers();
    const gather = index.producerOf(unsqueeze.inputs[0], 'Gather');
    const at = gather ? index.constant(gather.inputs[1]) : undefined;
    if (axes?.length !== 1 || axes[0] !== 0 || !gather || gather.getInt('axis', 0) !== 0 || !at || at.dims.length !== 0) return undefined;
    const dims = shapeSlice(index, gather.inputs[0]!, shapes);
    const i = at.toNumbers()[0]!;
    return dims && i >= -dims.length && i < dims.length ? [dims[i < 0 ? i + dims.length : i]!] : undefined;
  }
  const shape = index.producerOf(name, 'Shape');
  if (!shape) return undefined;
  const dims = shapes.get(shape.inputs[0]!)?.dims;
  if (!dims) return undefined;
  const rank = dims.length;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
  return dims.slice(clamp(shape.getInt('start', 0)), clamp(shape.getInt('end', rank)));
}

/**
 * Two dims are provably equal: the same number, or the same symbol (ONNX IR: dimension
 * variables are not scoped, so tensors sharing a symbol share its value; onnxruntime does
 * not check inputs against that).
 */
function sameDim(a: Dim | undefined, b: Dim | undefined): boolean {
  return a !== null && a !== undefined && a === b;
}
