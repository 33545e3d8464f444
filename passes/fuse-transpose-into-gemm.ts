// Transpose(perm=[1,0]) feeding Gemm's A or B is Gemm with transA/transB flipped.
import type { Graph, Node } from '../src/ir/graph.js';
import { attr } from '../src/ir/graph.js';
import { removeNode, setInput } from '../src/ir/mutate.js';
import { matched, noMatch, rulePass, type Match } from '../src/pass/rule.js';

interface TMatch { gemm: Node; slot: 0 | 1; transpose: Node }

export const fuseTransposeIntoGemm = rulePass<TMatch>('fuse-transpose-into-gemm', 'absorb a 2-D Transpose of a Gemm operand into transA/transB', {
  rootOps: ['Gemm'],
  match(gemm, index): Match<TMatch> {
    for (const slot of [0, 1] as const) {
      const t = index.producerOf(gemm.inputs[slot], 'Transpose');
      const perm = t?.getInts('perm');
      if (!t || !perm || perm.join() !== '1,0') continue;
      const readers = index.consumers.get(t.outputs[0]!) ?? [];
      if (readers.length !== 1 || index.graphOutputs.has(t.outputs[0]!)) continue;
      if (gemm.inputs[0] === gemm.inputs[1]) continue;
      return matched({ gemm, slot, transpose: t });
    }
    return noMatch('no 2-D Transpose operand with a single reader');
  },
  apply({ gemm, slot, transpose }, graph: Graph) {
    const key = slot === 0 ? 'transA' : 'transB';
    gemm.setAttr(attr.int(key, gemm.getInt(key, 0) ? 0 : 1));
    setInput(gemm, slot, transpose.inputs[0]!);
    removeNode(graph, transpose);
    return ['fused'];
  },
});
