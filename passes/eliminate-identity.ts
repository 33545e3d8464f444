// Identity and inference-time Dropout copy their input: readers can read the input directly.
import type { Graph } from '../src/ir/graph.js';
import { bypassNode } from '../src/ir/mutate.js';
import { PassReport, type Pass } from '../src/pass/pass.js';

export const eliminateIdentity: Pass = {
  name: 'eliminate-identity',
  description: 'remove Identity, and Dropout whose mask is unused (inference)',
  run(graph: Graph) {
    const report = new PassReport();
    for (const node of [...graph.nodes]) {
      if (!node.isOnnx() || (node.opType !== 'Identity' && node.opType !== 'Dropout')) continue;
      const input = node.inputs[0];
      if (!input) continue;
      if (node.opType === 'Dropout') {
        // Dropout is the identity unless training_mode is set (opset 12+: a third input).
        if (node.inputs[2]) { report.skip(`${node.describe()}: training_mode input given`); continue; }
        const mask = node.outputs[1];
        if (mask && (graph.consumers().has(mask) || graph.outputNames().has(mask))) { report.skip(`${node.describe()}: mask is used`); continue; }
      }
      if (bypassNode(graph, node, input)) report.count('removed');
      else report.skip(`${node.describe()}: connects a graph input or output directly`);
    }
    return report.result();
  },
};
