// Two nodes with the same op, attributes and inputs compute the same values: keep one.
import type { Attribute, Graph, Node } from '../src/ir/graph.js';
import { removeNode, replaceAllUses } from '../src/ir/mutate.js';
import { PassReport, type Pass } from '../src/pass/pass.js';

/** Ops whose outputs differ between two calls with the same inputs. */
const NONDETERMINISTIC = new Set(['RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Multinomial', 'Bernoulli', 'Dropout']);

export const eliminateCommonSubexpressions: Pass = {
  name: 'eliminate-common-subexpressions',
  description: 'merge nodes that compute the same thing from the same inputs',
  run(graph: Graph) {
    const report = new PassReport();
    const outputs = graph.outputNames();
    const seen = new Map<string, Node>();
    for (const node of [...graph.nodes]) {
      // An op of another domain may keep state or draw random numbers (onnxruntime's CSE
      // assumes as much for unknown domains): two calls are not provably one.
      if (!node.isOnnx() || NONDETERMINISTIC.has(node.opType) || node.subgraphs().length) continue;
      const key = nodeKey(node);
      const first = seen.get(key);
      if (!first) { seen.set(key, node); continue; }
      if (node.outputs.some((o) => outputs.has(o))) { report.skip(`${node.describe()}: output is a graph output`); continue; }
      node.outputs.forEach((o, k) => { if (o) replaceAllUses(graph, o, first.outputs[k]!); });
      removeNode(graph, node);
      report.count('merged');
    }
    return report.result();
  },
};

function nodeKey(node: Node): string {
  const attrs = [...node.attributes].sort((a, b) => a.name.localeCompare(b.name)).map(attributeKey);
  return JSON.stringify([node.domain ?? '', node.opType, node.overload ?? '', node.inputs, node.outputs.map((o) => (o ? 1 : 0)), attrs]);
}

function attributeKey(a: Attribute): unknown {
  const tensorKey = (t: import('../src/ir/tensor.js').Tensor) => t.contentKey();
  return [a.name, a.type, a.f, a.i?.toString(), a.s ? Buffer.from(a.s).toString('hex') : undefined, a.floats, a.ints?.map(String),
    a.strings?.map((s) => Buffer.from(s).toString('hex')), a.t ? tensorKey(a.t) : undefined, a.tensors?.map(tensorKey), a.ref_attr_name];
}
