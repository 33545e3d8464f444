// Sum of two inputs is Add: the same broadcasting (both multidirectional from opset 8; Sum-6
// requires equal shapes, which Add-7 accepts too). Not below opset 7: onnxruntime has no Add-6
// kernel, where it has Sum-6. Caffe2- and CNTK-era exports
// (the ONNX model zoo's ShuffleNet, ResNets) write residuals as Sum. onnxruntime has an int8
// Add (QLinearAdd) and none for Sum, so a Sum kept each residual float with a Dequantize and
// a Quantize around it: ShuffleNet v1 int8-static went 1.08x -> 1.19x of float speed with its
// 13 Sums as Adds (one thread). Sums of three or more inputs are left as they are.
import type { Graph, Node } from '../src/ir/graph.js';
import { matched, noMatch, rulePass, type Match } from '../src/pass/rule.js';

export const sumToAdd = rulePass<Node>('sum-to-add', 'rewrite a two-input Sum as Add', {
  rootOps: ['Sum'],
  match(node, _index, ctx): Match<Node> {
    if (ctx.opset < 7) return noMatch(`opset ${ctx.opset}: onnxruntime has no Add below 7`);
    return node.inputs.length === 2 && node.inputs.every((i) => i !== '') ? matched(node) : noMatch(`${node.inputs.length} inputs`);
  },
  apply(node, _graph: Graph) {
    node.opType = 'Add';
    node.attributes = [];
    return ['rewritten'];
  },
});
