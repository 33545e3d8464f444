// Conv followed by Add of a per-channel constant is Conv with that bias (added to any
// bias it had). mnist-8 and many converter outputs keep biases as separate Adds.
import type { Graph, Node } from '../src/ir/graph.js';
import { bypassNode, setInput } from '../src/ir/mutate.js';
import { inferShapes } from '../src/ir/shapes.js';
import { addFloatInitializer, floatValues, perChannel } from '../src/pass/weights.js';
import { GraphIndex, matched, noMatch, rulePass, type Match } from '../src/pass/rule.js';

interface AddMatch { conv: Node; add: Node; bias: Float32Array }

export const fuseAddIntoConv = rulePass<AddMatch>('fuse-add-into-conv', 'fold an Add of a per-channel constant into the preceding Conv bias', {
  rootOps: ['Add'],
  match(add, index): Match<AddMatch> {
    const convSide = index.producerOf(add.inputs[0], 'Conv') ? 0 : index.producerOf(add.inputs[1], 'Conv') ? 1 : -1;
    if (convSide < 0) return noMatch('no Conv input');
    const conv = index.producerOf(add.inputs[convSide], 'Conv')!;
    if (index.soleConsumer(conv.outputs[0]!) !== add) return noMatch('Conv output has other readers');
    const w = index.constant(conv.inputs[1]);
    if (!w || w.dims.length < 3) return noMatch('Conv weights unknown');
    const channels = w.dims[0]!;
    const rank = w.dims.length;
    const addend = index.constant(add.inputs[1 - convSide]);
    const bias = perChannel(addend, channels, rank);
    if (!bias || !addend || addend.dims.length > rank) return noMatch('addend is not a per-channel float constant');
    // A [1,C,1,1] addend must not broadcast the Conv output to a larger shape.
    const out = inferShapes(index.graph).get(add.outputs[0]!)?.dims;
    const convOut = inferShapes(index.graph).get(conv.outputs[0]!)?.dims;
    if (addend.dims.length === rank && (!out || !convOut || out.length !== convOut.length)) return noMatch('cannot prove the Add keeps the Conv shape');
    if (conv.inputs[2] && !floatValues(index.constant(conv.inputs[2]))) return noMatch('Conv bias is not a float constant');
    return matched({ conv, add, bias });
  },
  apply({ conv, add, bias }, graph: Graph) {
    const old = conv.inputs[2] ? floatValues(new GraphIndex(graph).constant(conv.inputs[2])) : undefined;
    const b = bias.map((v, i) => v + (old ? old[i]! : 0));
    setInput(conv, 2, addFloatInitializer(graph, `${conv.name || conv.outputs[0]}_bias`, [b.length], b));
    bypassNode(graph, add, conv.outputs[0]!);
    return ['fused'];
  },
});
