import { expect } from 'vitest';
import { DataType, GraphBuilder, type Attrs } from '../helpers/graph-builder.js';
import { testPass } from '../helpers/pass-tester.js';

interface Options {
  /** Where the Shape reads from: x itself (default) or another input of other dims. */
  shapeOf?: 'x' | 'other';
  start?: number;
  end?: number;
  rest?: number[];
  reshapeAttrs?: Attrs;
}

// PyTorch's flatten: x['N',3,4] -> Reshape(x, Concat(Shape(x)[start:end], rest)) -> y
function flattenExport(o: Options = {}) {
  return () => {
    const b = new GraphBuilder();
    const x = b.input('x', ['N', 3, 4]);
    const src = o.shapeOf === 'other' ? b.input('other', ['M', 3]) : x;
    const shape = b.node('Shape', [src], { start: o.start ?? 0, end: o.end ?? 1 });
    const target = b.node('Concat', [shape, b.int64('rest', o.rest ?? [-1])], { axis: 0 });
    b.output(b.node('Reshape', [x, target], o.reshapeAttrs));
    return b.model(15);
  };
}

// x.view(x.size(0), -1) as PyTorch exports it at opset 13: Unsqueeze(Gather(Shape(x), i), [0]).
function sizeExport(index: number, opset = 13, dims: (number | string)[] = ['N', 3, 4]) {
  return () => {
    const b = new GraphBuilder();
    const x = b.input('x', dims);
    const dim = b.node('Unsqueeze', [b.node('Gather', [b.node('Shape', [x]), b.int64('i', [index], [])], { axis: 0 }), b.int64('axes', [0])]);
    b.output(b.node('Reshape', [x, b.node('Concat', [dim, b.int64('rest', [-1])], { axis: 0 })]));
    return b.model(opset);
  };
}

// x['N',4,3].view(x.size(0), 2, x.size(1) // by, x.size(2)), as PyTorch exports c // g (`by` a
// constant or, for 'x', the runtime batch); with Mul, x.view(x.size(0), x.size(1) * x.size(2)).
function divExport(op: 'Div' | 'Mul', by: number | 'x') {
  return () => {
    const b = new GraphBuilder();
    const x = b.input('x', ['N', 4, 3]);
    const shape = b.node('Shape', [x]);
    const size = (i: number) => b.node('Gather', [shape, b.int64(`i${i}`, [i], [])], { axis: 0 });
    const divisor = by === 'x' ? size(0) : b.int64('by', [by], []);
    const unsq = (v: string, i: number) => b.node('Unsqueeze', [v, b.int64(`ax${i}`, [0])]);
    const pieces = op === 'Mul'
      ? [unsq(size(0), 0), unsq(b.node('Mul', [size(1), size(2)]), 1)]
      : [unsq(size(0), 0), b.int64('g', [2]), unsq(b.node('Div', [size(1), divisor]), 1), unsq(size(2), 2)];
    b.output(b.node('Reshape', [x, b.node('Concat', pieces, { axis: 0 })]));
    return b.model(13);
  };
}

const targetOf = (m: import('../helpers/graph-builder.js').Model) => m.graph.findInitializer(m.graph.nodes.find((n) => n.opType === 'Reshape')!.inputs[1]!)?.toNumbers();

testPass('fuse-shape-into-reshape', {
  kind: 'cleanup',
  invalid: [
    // Shape and Concat are left unread: eliminate-dead-nodes removes them.
    { name: 'a symbolic batch dim taken from Shape', build: flattenExport(), nodeCount: 3, stats: { fused: 1 }, check: (m) => expect(targetOf(m)).toEqual([0, -1]) },
    { name: 'two dims taken from Shape', build: flattenExport({ end: 2, rest: [4] }), stats: { fused: 1 }, check: (m) => expect(targetOf(m)).toEqual([0, 3, 4]) },
    { name: "x.size(0) as Unsqueeze(Gather(Shape(x), 0))", build: sizeExport(0), stats: { fused: 1 }, check: (m) => expect(targetOf(m)).toEqual([0, -1]) },
    { name: 'the same with a negative index (-3)', build: sizeExport(-3), stats: { fused: 1 }, check: (m) => expect(targetOf(m)).toEqual([0, -1]) },
    // A known dim read from another position is written as its number.
    { name: 'a known dim taken from another position', build: flattenExport({ start: 1, end: 2 }), stats: { fused: 1 }, check: (m) => expect(targetOf(m)).toEqual([3, -1]) },
    { name: 'x.size(1) in the batch position', build: sizeExport(1), stats: { fused: 1 }, check: (m) => expect(targetOf(m)).toEqual([3, -1]) },
    { name: 'x.view(x.size(0), 2, x.size(2) // 2): Div of a known dim by a constant', build: divExport('Div', 2), stats: { fused: 1 }, check: (m) => expect(targetOf(m)).toEqual([0, 2, 2, 3]) },
    { name: 'x.view(x.size(0), x.size(1) * x.size(2)): Mul of two known dims', build: divExport('Mul', 1), stats: { fused: 1 }, check: (m) => expect(targetOf(m)).toEqual([0, 12]) },
  ],
  valid: [
    { name: 'dims of another tensor', build: flattenExport({ shapeOf: 'other' }), diagnostic: 'neither known nor the input dim at its position' },
    { name: 'a symbolic dim taken from another position', build: sizeExport(1, 13, ['N', 'M', 4]), diagnostic: 'neither known nor the input dim at its position' },
    { name: 'a size divided by something not constant', build: divExport('Div', 'x'), diagnostic: 'neither a constant nor a Shape slice' },
    { name: 'allowzero with a constant 0', build: flattenExport({ rest: [0, -1], reshapeAttrs: { allowzero: 1 } }), diagnostic: 'a constant 0 would change meaning' },
    { name: 'x.size(0) with allowzero and a -1 (an empty batch would stop running)', build: () => { const m = sizeExport(0, 14)(); m.graph.nodes.find((n) => n.opType === 'Reshape')!.attributes.push({ name: 'allowzero', type: 2, i: 1 } as never); return m; }, diagnostic: 'allowzero with a -1' },
    { name: 'two -1 entries', build: flattenExport({ rest: [-1, -1] }), diagnostic: 'more than one -1' },
    {
      // onnxruntime does not check value_info: with k = 3 at run time the output is [2, 3].
      name: 'a size only a value_info declares (TopK with a runtime k declared [2, 4])',
      build: () => {
        const b = new GraphBuilder();
        const top = b.nodeOutputs('TopK', [b.input('x', [2, 12]), b.input('k', [1], DataType.INT64)], {}, { outputs: 2 })[0]!;
        b.valueInfo(top, [2, 4]);
        b.output(b.node('Reshape', [top, b.node('Concat', [b.node('Shape', [top], { start: 1, end: 2 }), b.int64('rest', [-1])], { axis: 0 })]));
        return b.model(15);
      },
      diagnostic: 'neither known nor the input dim at its position',
    },
    {
      // Each size is read once: 40 chained squarings would be 2^40 reads otherwise, and overflow.
      name: 'a size squared 40 times over (not a safe integer)',
      build: () => {
        const b = new GraphBuilder();
        const x = b.input('x', ['N', 3]);
        let size = b.node('Gather', [b.node('Shape', [x]), b.int64('one', [1], [])], { axis: 0 });
        for (let i = 0; i < 40; i++) size = b.node('Mul', [size, size]);
        b.output(b.node('Reshape', [x, b.node('Concat', [b.node('Unsqueeze', [size, b.int64('axes', [0])]), b.int64('rest', [-1])], { axis: 0 })]));
        return b.model(15);
      },
      diagnostic: 'neither a constant nor a Shape slice',
    },
    {
      name: 'a target that is not a Concat',
      build: () => {
        const b = new GraphBuilder();
        const x = b.input('x', ['N', 3, 4]);
        b.output(b.node('Reshape', [x, b.node('Shape', [x])]));
        return b.model(15);
      },
      diagnostic: 'target is not a Concat',
    },
    {
      name: 'a Shape of a custom domain',
      build: () => {
        const m = flattenExport()();
        m.graph.nodes[0]!.domain = 'com.example';
        return m;
      },
      diagnostic: 'neither a constant nor a Shape slice',
    },
  ],
});
