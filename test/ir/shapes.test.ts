import { describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, type Attrs } from '../helpers/graph-builder.js';
import type { Dim } from '../../src/ir/graph.js';
import { broadcast, inferDerivedShapes, inferShapes, nodeMacs, writeValueInfo } from '../../src/ir/shapes.js';

/** Dims inferred for the output of one `op` over inputs x (and whatever `extra` adds). */
function dimsOf(op: string, xDims: Dim[] | undefined, attrs: Attrs = {}, extra: (b: GraphBuilder) => string[] = () => [], elemType: number = DataType.FLOAT) {
  return shapeOf(op, xDims, attrs, extra, elemType).dims;
}
function shapeOf(op: string, xDims: Dim[] | undefined, attrs: Attrs = {}, extra: (b: GraphBuilder) => string[] = () => [], elemType: number = DataType.FLOAT) {
  const b = new GraphBuilder();
  const out = b.node(op, [b.input('x', xDims, elemType), ...extra(b)], attrs);
  return inferShapes(b.graph).get(out) ?? {};
}
const w = (dims: number[]) => (b: GraphBuilder) => [b.weight('w', dims)];
const ints = (...lists: number[][]) => (b: GraphBuilder) => lists.map((v, i) => b.int64(`c${i}`, v));

describe('broadcast', () => {
  it('aligns from the right and stretches 1s', () => {
    expect(broadcast([[2, 3, 4], [4]])).toEqual([2, 3, 4]);
    expect(broadcast([[2, 1, 4], [3, 1]])).toEqual([2, 3, 4]);
    expect(broadcast([[], [5]])).toEqual([5]);
  });
  it('keeps a symbolic dim against 1 or the same symbol, and takes a number over a symbol', () => {
    expect(broadcast([['N', 3], [1, 3]])).toEqual(['N', 3]);
    expect(broadcast([['N', 1], [1, 5]])).toEqual(['N', 5]);
    expect(broadcast([['N', 3], ['N', 3]])).toEqual(['N', 3]);
    expect(broadcast([['N'], [4]])).toEqual([4]);
  });
  it('gives an unknown dim for two different symbols', () => {
    expect(broadcast([['N'], ['M']])).toEqual([null]);
  });
});

describe('inferShapes: element-wise ops', () => {
  it('unary ops keep shape and type; Cast changes the type; comparisons give bool', () => {
    expect(shapeOf('Relu', ['N', 3])).toMatchObject({ elemType: DataType.FLOAT, dims: ['N', 3] });
    expect(shapeOf('Cast', [2, 3], { to: DataType.INT64 })).toMatchObject({ elemType: DataType.INT64, dims: [2, 3] });
    expect(shapeOf('Less', [2, 3], {}, w([3]))).toMatchObject({ elemType: DataType.BOOL, dims: [2, 3] });
  });
  it('binary ops broadcast their operands', () => {
    expect(dimsOf('Add', ['N', 1, 4], {}, w([3, 1]))).toEqual(['N', 3, 4]);
  });
  it('an operand of unknown rank gives an unknown shape, the type still known', () => {
    expect(shapeOf('Mul', undefined, {}, w([3]))).toMatchObject({ elemType: DataType.FLOAT, dims: undefined });
  });
  it('Dropout has a bool mask of the same shape', () => {
    const b = new GraphBuilder();
    const [y, mask] = b.nodeOutputs('Dropout', [b.input('x', [2, 3])], {}, { outputs: 2 });
    const shapes = inferShapes(b.graph);
    expect(shapes.get(y!)?.dims).toEqual([2, 3]);
    expect(shapes.get(mask!)).toMatchObject({ elemType: DataType.BOOL, dims: [2, 3] });
  });
});

describe('inferShapes: Reshape', () => {
  it('0 copies the input dim and -1 takes the rest', () => {
    expect(dimsOf('Reshape', [2, 3, 4], {}, ints([0, -1]))).toEqual([2, 12]);
    expect(dimsOf('Reshape', [2, 3, 4], {}, ints([-1]))).toEqual([24]);
    expect(dimsOf('Reshape', [2, 3, 4], {}, ints([4, 0, 2]))).toEqual([4, 3, 2]);
  });
  it('0 copies a symbolic dim', () => {
    expect(dimsOf('Reshape', ['N', 3, 4], {}, ints([0, 12]))).toEqual(['N', 12]);
  });
  it('with allowzero, 0 is a literal 0', () => {
    expect(dimsOf('Reshape', [2, 0, 4], { allowzero: 1 }, ints([0, 8]))).toEqual([0, 8]);
  });
  it('a shape fed at run time gives no known dim (never a guessed one)', () => {
    const dims = dimsOf('Reshape', [2, 3], {}, (b) => [b.input('s', [2], DataType.INT64)]);
    expect((dims ?? []).filter((d) => d !== null)).toEqual([]);
  });
  it('Flatten multiplies the dims on each side of the axis', () => {
    expect(dimsOf('Flatten', [2, 3, 4, 5], { axis: 2 })).toEqual([6, 20]);
    expect(dimsOf('Flatten', [2, 3, 4], { axis: 0 })).toEqual([1, 24]);
  });
});

describe('inferShapes: Conv and pooling', () => {
  const x = [1, 3, 32, 32];
  it('Conv with pads, strides and dilations', () => {
    expect(dimsOf('Conv', x, { pads: [1, 1, 1, 1], strides: [2, 2] }, w([8, 3, 3, 3]))).toEqual([1, 8, 16, 16]);
    expect(dimsOf('Conv', x, { dilations: [2, 2] }, w([8, 3, 3, 3]))).toEqual([1, 8, 28, 28]);
    expect(dimsOf('Conv', x, { pads: [0, 1, 2, 3] }, w([8, 3, 3, 3]))).toEqual([1, 8, 32, 34]);
  });
  it('Conv with auto_pad', () => {
    expect(dimsOf('Conv', x, { auto_pad: 'SAME_UPPER', strides: [2, 2] }, w([8, 3, 3, 3]))).toEqual([1, 8, 16, 16]);
    expect(dimsOf('Conv', x, { auto_pad: 'VALID' }, w([8, 3, 3, 3]))).toEqual([1, 8, 30, 30]);
  });
  // Symbolic spatial dims are left out: symbolic shape arithmetic is being added.
  it('Conv keeps a symbolic batch', () => {
    expect(dimsOf('Conv', ['N', 3, 8, 8], {}, w([4, 3, 3, 3]))).toEqual(['N', 4, 6, 6]);
  });
  it('1-D Conv', () => {
    expect(dimsOf('Conv', [1, 2, 10], { strides: [3] }, w([5, 2, 4]))).toEqual([1, 5, 3]);
  });
  it('MaxPool rounds down, or up with ceil_mode; AveragePool alike', () => {
    expect(dimsOf('MaxPool', [1, 3, 8, 8], { kernel_shape: [3, 3], strides: [2, 2] })).toEqual([1, 3, 3, 3]);
    expect(dimsOf('MaxPool', [1, 3, 8, 8], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 })).toEqual([1, 3, 4, 4]);
    expect(dimsOf('AveragePool', [1, 3, 8, 8], { kernel_shape: [2, 2], strides: [2, 2] })).toEqual([1, 3, 4, 4]);
  });
  it('ceil_mode drops a last window that would start in the trailing pad (as onnxruntime and PyTorch do)', () => {
    expect(dimsOf('MaxPool', [1, 1, 4, 4], { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 1, 1], ceil_mode: 1 })).toEqual([1, 1, 2, 2]);
    expect(dimsOf('AveragePool', [1, 1, 5, 5], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 })).toEqual([1, 1, 3, 3]);
  });
  it('a pool under auto_pad with dilations or ceil_mode has unknown spatial dims (onnxruntime departs from the spec there)', () => {
    expect(dimsOf('MaxPool', [1, 1, 8, 8], { kernel_shape: [3, 3], dilations: [2, 2], auto_pad: 'SAME_UPPER' })).toEqual([1, 1, null, null]);
    expect(dimsOf('MaxPool', [1, 1, 8, 8], { kernel_shape: [3, 3], strides: [3, 3], auto_pad: 'VALID', ceil_mode: 1 })).toEqual([1, 1, null, null]);
    expect(dimsOf('MaxPool', [1, 1, 8, 8], { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' })).toEqual([1, 1, 4, 4]);
  });
  it('Resize: sizes under an aspect-ratio policy, and tf_crop_and_resize scales, give unknown dims', () => {
    const sizes = (b: GraphBuilder) => ['', '', b.int64('sizes', [1, 1, 4, 8])];
    expect(dimsOf('Resize', [1, 1, 2, 2], {}, sizes)).toEqual([1, 1, 4, 8]);
    expect(dimsOf('Resize', [1, 1, 2, 2], { keep_aspect_ratio_policy: 'not_larger' }, sizes)).toEqual([null, null, null, null]);
    const scales = (b: GraphBuilder) => [b.weight('roi', [8], [0, 0, 0, 0, 1, 1, 0.5, 0.5]), b.weight('scales', [4], [1, 1, 2, 2])];
    expect(dimsOf('Resize', [1, 1, 4, 4], {}, scales)).toEqual([1, 1, 8, 8]);
    expect(dimsOf('Resize', [1, 1, 4, 4], { coordinate_transformation_mode: 'tf_crop_and_resize' }, scales)).toEqual([null, null, null, null]);
  });
  it('global pooling keeps batch and channels', () => {
    expect(dimsOf('GlobalAveragePool', ['N', 16, 7, 7])).toEqual(['N', 16, 1, 1]);
  });
  it('ConvTranspose: strides, group, output_shape', () => {
    expect(dimsOf('ConvTranspose', [1, 4, 5, 5], { strides: [2, 2] }, w([4, 3, 3, 3]))).toEqual([1, 3, 11, 11]);
    expect(dimsOf('ConvTranspose', [1, 4, 5, 5], { group: 2, pads: [1, 1, 1, 1] }, w([4, 3, 3, 3]))).toEqual([1, 6, 5, 5]);
    expect(dimsOf('ConvTranspose', [1, 4, 5, 5], { strides: [2, 2], output_shape: [10, 10] }, w([4, 3, 3, 3]))).toEqual([1, 3, 10, 10]);
  });
});

describe('inferShapes: matrix ops', () => {
  it('MatMul: batched, broadcast batch dims, 1-D operands', () => {
    expect(dimsOf('MatMul', [2, 3, 4], {}, w([4, 5]))).toEqual([2, 3, 5]);
    expect(dimsOf('MatMul', [2, 1, 3, 4], {}, w([6, 4, 5]))).toEqual([2, 6, 3, 5]);
    expect(dimsOf('MatMul', [4], {}, w([4, 5]))).toEqual([5]);
    expect(dimsOf('MatMul', [3, 4], {}, w([4]))).toEqual([3]);
  });
  it('Gemm honours transA and transB', () => {
    expect(dimsOf('Gemm', [3, 4], {}, w([4, 5]))).toEqual([3, 5]);
    expect(dimsOf('Gemm', [4, 3], { transA: 1, transB: 1 }, w([5, 4]))).toEqual([3, 5]);
  });
});

describe('inferShapes: shape ops', () => {
  it('Concat sums the axis and keeps the other dims', () => {
    const two = (dims: Dim[]) => (b: GraphBuilder) => [b.input('y', dims)];
    expect(dimsOf('Concat', [2, 3], { axis: 1 }, two([2, 5]))).toEqual([2, 8]);
    expect(dimsOf('Concat', ['N', 3], { axis: -1 }, two(['N', 5]))).toEqual(['N', 8]);
  });
  it('Gather puts the index dims at the axis', () => {
    const idx = (dims: number[]) => (b: GraphBuilder) => [b.input('i', dims, DataType.INT64)];
    expect(dimsOf('Gather', [5, 4], {}, idx([2, 3]))).toEqual([2, 3, 4]);
    expect(dimsOf('Gather', [5, 4], { axis: 1 }, idx([2, 3]))).toEqual([5, 2, 3]);
    expect(dimsOf('Gather', ['N', 4], { axis: 1 }, idx([]))).toEqual(['N']);
  });
  it('Transpose: explicit perm, and the reverse by default', () => {
    expect(dimsOf('Transpose', ['N', 3, 4], { perm: [0, 2, 1] })).toEqual(['N', 4, 3]);
    expect(dimsOf('Transpose', [2, 3, 4])).toEqual([4, 3, 2]);
  });
  it('Squeeze and Unsqueeze, with axes as attribute or input', () => {
    expect(dimsOf('Squeeze', [1, 3, 1, 4], { axes: [0, -2] })).toEqual([3, 4]);
    expect(dimsOf('Squeeze', [1, 3, 1, 4], {}, ints([2]))).toEqual([1, 3, 4]);
    expect(dimsOf('Squeeze', [1, 3, 1, 4])).toEqual([3, 4]);
    expect(dimsOf('Unsqueeze', ['N', 3], {}, ints([0, 3]))).toEqual([1, 'N', 3, 1]);
    expect(dimsOf('Unsqueeze', [3], { axes: [-1] })).toEqual([3, 1]);
  });
  it('Slice: negative indices, clamped ends, steps', () => {
    expect(dimsOf('Slice', [10, 8], {}, ints([1], [-1], [0]))).toEqual([8, 8]);
    expect(dimsOf('Slice', [10, 8], {}, ints([0, 2], [1000, 8], [0, 1], [1, 3]))).toEqual([10, 2]);
    expect(dimsOf('Slice', [10, 8], {}, ints([-1], [-1000], [0], [-1]))).toEqual([10, 8]);
    expect(dimsOf('Slice', ['N', 8], {}, ints([0], [4], [1]))).toEqual(['N', 4]);
  });
  it('Split: equal parts, or the sizes given', () => {
    const split = (attrs: Attrs, extra: (b: GraphBuilder) => string[] = () => []) => {
      const b = new GraphBuilder();
      const outs = b.nodeOutputs('Split', [b.input('x', [6, 4]), ...extra(b)], attrs, { outputs: 2 });
      const shapes = inferShapes(b.graph);
      return outs.map((o) => shapes.get(o)?.dims);
    };
    expect(split({})).toEqual([[3, 4], [3, 4]]);
    expect(split({ axis: 0 }, ints([2, 4]))).toEqual([[2, 4], [4, 4]]);
  });
  it('Pad adds both sides; Tile multiplies; Expand broadcasts', () => {
    expect(dimsOf('Pad', [2, 3], {}, ints([0, 1, 0, 2]))).toEqual([2, 6]);
    expect(dimsOf('Tile', [2, 3], {}, ints([3, 1]))).toEqual([6, 3]);
    expect(dimsOf('Expand', [3, 1], {}, ints([2, 3, 4]))).toEqual([2, 3, 4]);
  });
  it('reductions, with and without keepdims, axes as attribute or input', () => {
    expect(dimsOf('ReduceMean', ['N', 3, 4], { axes: [-1] })).toEqual(['N', 3, 1]);
    expect(dimsOf('ReduceSum', ['N', 3, 4], { keepdims: 0 }, ints([1]))).toEqual(['N', 4]);
    expect(dimsOf('ReduceMax', [2, 3], { keepdims: 0 })).toEqual([]);
    expect(dimsOf('ArgMax', [2, 3], { axis: 1, keepdims: 0 })).toEqual([2]);
  });
  it('Shape gives [rank] (or the slice length); Size a scalar', () => {
    expect(shapeOf('Shape', ['N', 3, 4])).toMatchObject({ elemType: DataType.INT64, dims: [3] });
    expect(dimsOf('Shape', ['N', 3, 4], { start: 1 })).toEqual([2]);
    expect(dimsOf('Shape', ['N', 3, 4], { start: -1, end: 10 })).toEqual([1]);
    expect(dimsOf('Size', [2, 3])).toEqual([]);
  });
  it('ConstantOfShape reads its constant shape', () => {
    const b = new GraphBuilder();
    const out = b.node('ConstantOfShape', [b.int64('s', [2, 5])]);
    expect(inferShapes(b.graph).get(out)).toMatchObject({ elemType: DataType.FLOAT, dims: [2, 5] });
  });
});

describe('inferShapes: what it does not know', () => {
  it('an unknown op, or an op of another domain, gets no shape at all', () => {
    expect(inferShapes(new GraphBuilder().graph).size).toBe(0);
    const b = new GraphBuilder();
    const unknown = b.node('NonMaxSuppression', [b.input('boxes', [1, 4, 4]), b.input('scores', [1, 1, 4])]);
    const custom = b.node('Relu', ['boxes'], {}, { domain: 'com.example' });
    const shapes = inferShapes(b.graph);
    expect(shapes.has(unknown)).toBe(false);
    expect(shapes.has(custom)).toBe(false);
  });
  it('keeps a declared shape where inference has nothing to say', () => {
    const b = new GraphBuilder();
    const out = b.node('NonMaxSuppression', [b.input('boxes', [1, 4, 4]), b.input('scores', [1, 1, 4])]);
    b.valueInfo(out, ['K', 3], DataType.INT64);
    expect(inferShapes(b.graph).get(out)).toMatchObject({ elemType: DataType.INT64, dims: ['K', 3] });
    expect(dimsOf('Relu', undefined)).toBeUndefined();
  });
  it('a graph output declared without dims keeps the dims its value_info declares', () => {
    const b = new GraphBuilder();
    const out = b.node('NonMaxSuppression', [b.input('boxes', [1, 4, 4]), b.input('scores', [1, 1, 4])]);
    b.valueInfo(out, ['K', 3], DataType.INT64);
    b.output(out, undefined, DataType.INT64);
    expect(inferShapes(b.graph).get(out)).toMatchObject({ elemType: DataType.INT64, dims: ['K', 3] });
  });
  it('initializers have their own dims; an initializer that is also an input is not trusted', () => {
    const b = new GraphBuilder();
    b.weight('w', [2, 3]);
    b.weight('d', [4]);
    b.input('d', undefined);
    const shapes = inferShapes(b.graph);
    expect(shapes.get('w')?.dims).toEqual([2, 3]);
    expect(shapes.get('d')?.dims).toBeUndefined();
  });
});

describe('inferShapes: subgraphs', () => {
  it('a subgraph sees the shapes of the values it captures', () => {
    const b = new GraphBuilder();
    const relu = b.node('Relu', [b.input('x', ['N', 3])]);
    const y = b.output(b.ifCapturing(b.cond(), relu));
    const then = b.graph.nodes.find((n) => n.outputs.includes(y))!.subgraphs()[0]!;
    expect(inferShapes(then).get('relu_then')?.dims).toEqual(['N', 3]);
  });
});

describe('inferDerivedShapes', () => {
  it('reads neither value_info nor the declared inputs of a Loop body, which onnxruntime does not check', () => {
    const b = new GraphBuilder();
    const out = b.node('NonMaxSuppression', [b.input('boxes', [1, 4, 4]), b.input('scores', [1, 1, 4])]);
    b.valueInfo(out, ['K', 3], DataType.INT64);
    b.output(b.loopCapturing(b.node('Relu', [b.input('x', [2, 3])])));
    expect(inferShapes(b.graph).get(out)?.dims).toEqual(['K', 3]);
    expect(inferDerivedShapes(b.graph).get(out)?.dims).toBeUndefined();
    const body = b.graph.nodes.find((n) => n.opType === 'Loop')!.subgraphs()[0]!;
    expect(inferShapes(body).get('iter')?.dims).toEqual([]);
    expect(inferDerivedShapes(body).get('iter')).toMatchObject({ elemType: DataType.INT64, dims: undefined });
    expect(inferDerivedShapes(body).get('relu_copy')?.dims).toEqual([2, 3]);
  });
});

describe('writeValueInfo', () => {
  it('declares intermediate values once, skipping what is declared and what has no full shape', () => {
    const b = new GraphBuilder();
    const relu = b.node('Relu', [b.input('x', [2, 3])]);
    const neg = b.node('Neg', [relu]);
    b.node('NonMaxSuppression', [neg, neg]);
    b.output(b.node('Abs', [neg]));
    b.valueInfo(neg, [2, 3]);
    expect(writeValueInfo(b.graph, inferShapes(b.graph))).toBe(1);
    expect(b.graph.valueInfo.map((v) => v.name)).toEqual(['neg', 'relu']);
    expect(writeValueInfo(b.graph, inferShapes(b.graph))).toBe(0);
  });
});

describe('nodeMacs', () => {
  const macs = (op: string, xDims: Dim[], wDims: number[], attrs: Attrs = {}) => {
    const b = new GraphBuilder();
    b.node(op, [b.input('x', xDims), b.weight('w', wDims)], attrs);
    return nodeMacs(b.graph.nodes[0]!, inferShapes(b.graph));
  };
  it('counts multiply-accumulates per sample', () => {
    expect(macs('Conv', ['N', 3, 8, 8], [4, 3, 3, 3])).toBe(4 * 6 * 6 * 27);
    expect(macs('MatMul', [2, 5], [5, 4])).toBe(2 * 4 * 5);
    expect(macs('Gemm', [5, 2], [5, 4], { transA: 1 })).toBe(2 * 4 * 5);
  });
  it('is undefined for ops it does not count', () => {
    expect(macs('Add', [2, 5], [5])).toBeUndefined();
  });
});
