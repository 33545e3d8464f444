// Transpose(Transpose(x, p1), p2) is one Transpose by the composed permutation (or none).
import type { Graph, Node } from '../src/ir/graph.js';
import { attr } from '../src/ir/graph.js';
import { bypassNode, removeNode, setInput } from '../src/ir/mutate.js';
import { matched, noMatch, rulePass, type Match } from '../src/pass/rule.js';

interface TransposeMatch { first: Node; second: Node; perm: number[] }

export const fuseConsecutiveTransposes = rulePass<TransposeMatch>('fuse-consecutive-transposes', 'merge a Transpose of a Transpose into one (or none)', {
  rootOps: ['Transpose'],
  match(second, index): Match<TransposeMatch> {
    const first = index.producerOf(second.inputs[0], 'Transpose');
    if (!first) return noMatch('input is not a Transpose');
    if (index.soleConsumer(first.outputs[0]!) !== second) return noMatch('inner Transpose has other readers');
    const p1 = first.getInts('perm');
    const p2 = second.getInts('perm');
    if (!p1 || !p2 || p1.length !== p2.length) return noMatch('permutation not explicit');
    return matched({ first, second, perm: p2.map((i) => p1[i]!) });
  },
  apply({ first, second, perm }, graph: Graph) {
    setInput(second, 0, first.inputs[0]!);
    second.setAttr(attr.ints('perm', perm));
    removeNode(graph, first);
    if (perm.every((p, i) => p === i)) bypassNode(graph, second, second.inputs[0]!);
    return ['fused'];
  },
});
