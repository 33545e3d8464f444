import { expect } from 'vitest';
import { GraphBuilder, type Attrs } from '../helpers/graph-builder.js';
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
function sizeExport(index: number, opset = 13) {
  return () => {
    const b = new GraphBuilder();
    const x = b.input('x', ['N', 3, 4]);
    const dim = b.node('Unsqueeze', [b.node('Gather', [b.node('Shape', [x]), b.int64('i', [index], [])], { axis: 0 }), b.int64('axes', [0])]);
    b.output(b.node('Reshape', [x, b.node('Concat', [dim, b.int64('rest', [-1])], { axis: 0 })]));
    return b.model(opset);
  };
}

const targetOf = (m: import('../helpers/graph-builder.js').Model) => m.graph.findInitializer(m.graph.nodes.find((n) => n.opType === 'Reshape')!.inputs[1]!)?.toNumbers();

testPass('fuse-shape-into-reshape', {
  kind: 'cleanup',
  invalid: [
    // Shape and Concat are left unread: eliminate-dead-nodes removes them.
    { name: 'a symbolic batch dim taken from Shape', build: flattenExport(), nodeCount: 3, stats: { fused: 1 }, check: (m) => expect(targetOf(m)).toEqual([0, -1]) },
    { name: 'two dims taken from Shape', build: flattenExport({ end: 2, rest: [4] }), stats: { fused: 1 }, check: (m) => expect(targetOf(m)).toEqual([0, 0, 4]) },
    { name: "x.size(0) as Unsqueeze(Gather(Shape(x), 0))", build: sizeExport(0), stats: { fused: 1 }, check: (m) => expect(targetOf(m)).toEqual([0, -1]) },
    { name: 'the same with a negative index (-3)', build: sizeExport(-3), stats: { fused: 1 }, check: (m) => expect(targetOf(m)).toEqual([0, -1]) },
  ],
  valid: [
    { name: 'dims of another tensor', build: flattenExport({ shapeOf: 'other' }), diagnostic: 'not the input dims at the same positions' },
    { name: 'dims taken from other positions', build: flattenExport({ start: 1, end: 2 }), diagnostic: 'not the input dims at the same positions' },
    { name: 'allowzero with a constant 0', build: flattenExport({ rest: [0, -1], reshapeAttrs: { allowzero: 1 } }), diagnostic: 'a constant 0 would change meaning' },
    { name: 'x.size(0) with allowzero and a -1 (an empty batch would stop running)', build: () => { const m = sizeExport(0, 14)(); m.graph.nodes.find((n) => n.opType === 'Reshape')!.attributes.push({ name: 'allowzero', type: 2, i: 1 } as never); return m; }, diagnostic: 'allowzero with a -1' },
    { name: 'x.size(1) in the batch position', build: sizeExport(1), diagnostic: 'not the input dims at the same positions' },
    { name: 'two -1 entries', build: flattenExport({ rest: [-1, -1] }), diagnostic: 'more than one -1' },
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
