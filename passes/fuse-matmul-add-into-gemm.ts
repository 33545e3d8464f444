// A 2-D MatMul with a constant right side, followed by Add of a constant bias, is a Gemm.
import type { Graph, Node } from '../src/ir/graph.js';
import { attr } from '../src/ir/graph.js';
import { bypassNode, setInputs } from '../src/ir/mutate.js';
import { inferShapes } from '../src/ir/shapes.js';
import { matched, noMatch, rulePass, type Match } from '../src/pass/rule.js';

interface GemmMatch { matmul: Node; add: Node; bias: string }

export const fuseMatmulAddIntoGemm = rulePass<GemmMatch>('fuse-matmul-add-into-gemm', 'turn 2-D MatMul + Add of a constant bias into Gemm', {
  rootOps: ['Add'],
  match(add, index): Match<GemmMatch> {
    const side = index.producerOf(add.inputs[0], 'MatMul') ? 0 : index.producerOf(add.inputs[1], 'MatMul') ? 1 : -1;
    if (side < 0) return noMatch('no MatMul input');
    const matmul = index.producerOf(add.inputs[side], 'MatMul')!;
    if (index.soleConsumer(matmul.outputs[0]!) !== add) return noMatch('MatMul output has other readers');
    const shapes = inferShapes(index.graph);
    const a = shapes.get(matmul.inputs[0]!)?.dims;
    const b = index.constant(matmul.inputs[1]);
    if (!a || a.length !== 2 || !b || b.dims.length !== 2) return noMatch('not a 2-D MatMul with a constant right side');
    const biasName = add.inputs[1 - side]!;
    const bias = index.constant(biasName);
    const n = b.dims[1]!;
    // Gemm's C broadcasts unidirectionally to [M, N]: [N] and [1, N] are safe.
    if (!bias || bias.dataType !== b.dataType || !(bias.dims.length === 1 ? bias.dims[0] === n : bias.dims.length === 2 && bias.dims[0] === 1 && bias.dims[1] === n)) {
      return noMatch('bias is not a constant of shape [N] or [1, N]');
    }
    if (shapes.get(matmul.inputs[0]!)?.elemType !== b.dataType) return noMatch('input types differ');
    return matched({ matmul, add, bias: biasName });
  },
  apply({ matmul, add, bias }, graph: Graph) {
    matmul.opType = 'Gemm';
    setInputs(matmul, [matmul.inputs[0]!, matmul.inputs[1]!, bias]);
    matmul.attributes = [attr.float('alpha', 1), attr.float('beta', 1)];
    bypassNode(graph, add, matmul.outputs[0]!);
    return ['fused'];
  },
});
