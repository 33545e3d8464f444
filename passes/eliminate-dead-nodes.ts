// Nodes whose outputs nobody reads, initializers no node reads, and value_info of values
// that no longer exist. ONNX ops have no side effects, so an unread node can go.
import type { Graph, Node } from '../src/ir/graph.js';
import { dropValueInfoWhere, removeInitializer, removeNodes } from '../src/ir/mutate.js';
import { PassReport, type Pass } from '../src/pass/pass.js';

export const eliminateDeadNodes: Pass = {
  name: 'eliminate-dead-nodes',
  description: 'remove nodes whose outputs are unused, unused initializers and stale value_info',
  run(graph: Graph) {
    const report = new PassReport();
    // Liveness from the graph outputs back through producers; independent of node order.
    const used = new Set<string>(graph.outputNames());
    const producers = graph.producers();
    const live = new Set<Node>();
    const stack = [...used];
    while (stack.length) {
      const node = producers.get(stack.pop()!);
      if (!node || live.has(node)) continue;
      live.add(node);
      const reads = [...node.inputs];
      for (const sub of node.subgraphs()) reads.push(...sub.capturedNames());
      for (const r of reads) if (r && !used.has(r)) { used.add(r); stack.push(r); }
    }
    const dead = graph.nodes.filter((n) => !live.has(n));
    removeNodes(graph, dead);
    report.count('nodesRemoved', dead.length);
    const inputs = new Set(graph.inputs.map((i) => i.name));
    for (const [name, tensor] of [...graph.initializers]) {
      if (used.has(name) || inputs.has(name)) continue;
      removeInitializer(graph, name);
      report.count('initializersRemoved');
      report.count('bytesSaved', tensor.byteLength);
    }
    const defined = new Set<string>(used);
    for (const n of graph.nodes) for (const o of n.outputs) defined.add(o);
    report.count('valueInfoRemoved', dropValueInfoWhere(graph, (v) => !defined.has(v.name)));
    return report.result();
  },
};
