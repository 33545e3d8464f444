// A constant zero Pad of spatial dims only, before Conv (or AveragePool counting pads),
// is the same as that op's own pads.
import type { Graph, Node } from '../src/ir/graph.js';
import { attr } from '../src/ir/graph.js';
import { removeNode, setInput } from '../src/ir/mutate.js';
import { matched, noMatch, rulePass, type Match } from '../src/pass/rule.js';

interface PadMatch { pad: Node; consumer: Node; extra: number[] }

export const fusePadIntoConv = rulePass<PadMatch>('fuse-pad-into-conv', 'merge a zero constant Pad into the following Conv or AveragePool pads', {
  rootOps: ['Conv', 'AveragePool'],
  match(consumer, index): Match<PadMatch> {
    const pad = index.producerOf(consumer.inputs[0], 'Pad');
    if (!pad) return noMatch('input is not a Pad');
    if (index.soleConsumer(pad.outputs[0]!) !== consumer) return noMatch('Pad has other readers');
    if (pad.getString('mode', 'constant') !== 'constant') return noMatch('Pad mode is not constant');
    const pads = pad.getInts('pads') ?? index.constant(pad.inputs[1])?.toNumbers();
    if (!pads) return noMatch('pads are not constant');
    if (pad.inputs[3]) return noMatch('Pad has axes');
    const value = pad.inputs[2] ? index.constant(pad.inputs[2])?.toNumbers()[0] : pad.getFloat('value', 0);
    if (value !== 0) return noMatch('pad value is not zero');
    if (consumer.getString('auto_pad', 'NOTSET') !== 'NOTSET') return noMatch('consumer uses auto_pad');
    if (consumer.opType === 'AveragePool' && consumer.getInt('count_include_pad', 0) !== 1) return noMatch('AveragePool would not count the pads');
    const rank = pads.length / 2;
    if (pads.some((p) => p < 0) || pads[0] !== 0 || pads[1] !== 0 || pads[rank] !== 0 || pads[rank + 1] !== 0) return noMatch('pads batch/channel dims or are negative');
    const spatial = rank - 2;
    const extra = [...pads.slice(2, rank), ...pads.slice(rank + 2)];
    if (extra.length !== 2 * spatial) return noMatch('unexpected rank');
    return matched({ pad, consumer, extra });
  },
  apply({ pad, consumer, extra }, graph: Graph) {
    const current = consumer.getInts('pads') ?? extra.map(() => 0);
    consumer.setAttr(attr.ints('pads', current.map((p, i) => p + extra[i]!)));
    setInput(consumer, 0, pad.inputs[0]!);
    removeNode(graph, pad);
    return ['fused'];
  },
});
