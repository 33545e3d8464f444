import { expect } from 'vitest';
import { GraphBuilder, type Attrs } from '../helpers/graph-builder.js';
import { escapeCases, inCustomDomain, testPass } from '../helpers/pass-tester.js';

interface Options {
  pads?: number[];
  mode?: string;
  value?: number;
  consumer?: 'Conv' | 'AveragePool';
  consumerAttrs?: Attrs;
  extra?: (b: GraphBuilder, pad: string) => void;
}

// x[1,2,5,5] -> Pad(pads, value) -> Conv(w[3,2,3,3]) | AveragePool(3x3) -> y
function padConv(o: Options = {}) {
  return () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 2, 5, 5]);
    const padIns = [x, b.int64('pads', o.pads ?? [0, 0, 1, 2, 0, 0, 1, 0])];
    if (o.value !== undefined) padIns.push(b.scalar('value', o.value));
    const pad = b.node('Pad', padIns, o.mode ? { mode: o.mode } : {});
    const consumer = o.consumer ?? 'Conv';
    const ins = consumer === 'Conv' ? [pad, b.weight('w', [3, 2, 3, 3])] : [pad];
    b.output(b.node(consumer, ins, { ...(consumer === 'AveragePool' ? { kernel_shape: [3, 3] } : {}), ...o.consumerAttrs }));
    o.extra?.(b, pad);
    return b.model(13);
  };
}

const fused = { stats: { fused: 1 } };
const padsOf = (m: import('../helpers/graph-builder.js').Model) => m.graph.nodes.find((n) => n.opType !== 'Pad')!.getInts('pads');

testPass('fuse-pad-into-conv', {
  kind: 'cleanup',
  invalid: [
    { name: 'a spatial zero Pad before Conv', build: padConv(), ops: { Pad: 0, Conv: 1 }, nodeCount: 1, ...fused, check: (m) => expect(padsOf(m)).toEqual([1, 2, 1, 0]) },
    { name: 'an explicit zero pad value', build: padConv({ value: 0 }), ops: { Pad: 0 }, ...fused },
    { name: 'added to the Conv pads it had', build: padConv({ consumerAttrs: { pads: [1, 1, 1, 1] } }), ops: { Pad: 0 }, ...fused, check: (m) => expect(padsOf(m)).toEqual([2, 3, 2, 1]) },
    { name: 'AveragePool counting pads', build: padConv({ consumer: 'AveragePool', consumerAttrs: { count_include_pad: 1 } }), ops: { Pad: 0, AveragePool: 1 }, ...fused },
  ],
  valid: [
    { name: 'reflect mode', build: padConv({ mode: 'reflect' }), diagnostic: 'mode is not constant' },
    { name: 'a non-zero pad value', build: padConv({ value: 1 }), diagnostic: 'pad value is not zero' },
    { name: 'pads on the channel dim', build: padConv({ pads: [0, 1, 0, 0, 0, 0, 0, 0] }), diagnostic: 'batch/channel' },
    { name: 'negative pads (a crop)', build: padConv({ pads: [0, 0, -1, 0, 0, 0, 0, 0] }), diagnostic: 'negative' },
    { name: 'AveragePool not counting pads', build: padConv({ consumer: 'AveragePool' }), diagnostic: 'would not count the pads' },
    { name: 'a Conv with auto_pad', build: padConv({ consumerAttrs: { auto_pad: 'SAME_UPPER' } }), diagnostic: 'auto_pad' },
    ...escapeCases('the Pad output', (extra) => padConv({ extra }), 'other readers'),
    { name: 'a Pad of a custom domain', build: inCustomDomain(padConv(), 'Pad'), diagnostic: 'input is not a Pad' },
  ],
});
