// Before IR 4 every initializer also had to be a graph input, which makes weights look
// overridable and blocks folding and fusion (onnxruntime warns about it too). Nobody feeds
// weights at run time: drop them from the inputs and raise ir_version to 4, as
// onnxruntime's remove_initializer_from_input tool does.
import type { Graph } from '../src/ir/graph.js';
import { removeGraphInputsWhere } from '../src/ir/mutate.js';
import { PassReport, type Pass, type PassContext } from '../src/pass/pass.js';

export const removeInitializerInputs: Pass = {
  name: 'remove-initializer-inputs',
  description: 'stop listing initializers as graph inputs (IR < 4 style), so they count as constants',
  run(graph: Graph, ctx: PassContext) {
    const report = new PassReport();
    if (graph.parent) return report.result(); // subgraph inputs are positional
    const removed = removeGraphInputsWhere(graph, (i) => graph.initializers.has(i.name));
    if (removed > 0) {
      ctx.model.irVersion = Math.max(ctx.model.irVersion, 4);
      report.count('inputsRemoved', removed);
    }
    return report.result();
  },
};
