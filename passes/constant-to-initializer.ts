// Constant nodes become initializers: one representation for constants, which every
// other pass then sees through graph.findInitializer.
import type { Graph } from '../src/ir/graph.js';
import { tensorType } from '../src/ir/graph.js';
import { DataType } from '../src/ir/dtype.js';
import { addGraphInput, addInitializer, removeNode } from '../src/ir/mutate.js';
import { Tensor } from '../src/ir/tensor.js';
import { PassReport, type Pass, type PassContext } from '../src/pass/pass.js';

export const constantToInitializer: Pass = {
  name: 'constant-to-initializer',
  description: 'turn Constant nodes into initializers',
  run(graph: Graph, ctx: PassContext) {
    const report = new PassReport();
    // Before IR 4 an initializer must also be a graph input; subgraph inputs are positional.
    const needsInput = ctx.model.irVersion < 4;
    if (needsInput && graph.parent) return report.result();
    const outputs = graph.outputNames();
    for (const node of [...graph.nodes]) {
      if (!node.isOnnx('Constant')) continue;
      const name = node.outputs[0]!;
      if (outputs.has(name)) { report.skip(`${node.describe()}: is a graph output`); continue; }
      const tensor = constantValue(node.attributes[0]);
      if (!tensor || node.attributes.length !== 1) { report.skip(`${node.describe()}: sparse or unusual value`); continue; }
      tensor.name = name;
      removeNode(graph, node);
      addInitializer(graph, tensor);
      if (needsInput) addGraphInput(graph, { name, type: tensorType(tensor.dataType, tensor.dims) });
      report.count('converted');
    }
    return report.result();
  },
};

function constantValue(a: import('../src/ir/graph.js').Attribute | undefined): Tensor | undefined {
  if (!a) return undefined;
  switch (a.name) {
    case 'value': return a.t ? new Tensor(a.t.name, a.t.dataType, a.t.dims, a.t.data, { ...a.t.meta, hasName: true }) : undefined;
    case 'value_float': return Tensor.fromFloat32('', [], Float32Array.of(a.f ?? 0));
    case 'value_floats': return Tensor.fromFloat32('', [a.floats?.length ?? 0], Float32Array.from(a.floats ?? []));
    case 'value_int': return Tensor.fromTyped('', DataType.INT64, [], BigInt64Array.of(BigInt(a.i ?? 0)));
    case 'value_ints': return Tensor.fromTyped('', DataType.INT64, [a.ints?.length ?? 0], BigInt64Array.from((a.ints ?? []).map((v) => BigInt(v))));
    default: return undefined;
  }
}
