// Reshape(Reshape(x)) is the outer Reshape alone, when the outer shape is a constant
// without 0 (copy-a-dim) entries; Unsqueeze(Squeeze(x)) with the same axes is x.
import type { Graph, Node } from '../src/ir/graph.js';
import { bypassNode, removeNode, setInput } from '../src/ir/mutate.js';
import { matched, noMatch, rulePass, type GraphIndex, type Match } from '../src/pass/rule.js';

interface ReshapeMatch { inner: Node; outer: Node; cancel: boolean }

function axesOf(node: Node, index: GraphIndex): number[] | undefined {
  return node.getInts('axes') ?? (node.inputs[1] ? index.constant(node.inputs[1])?.toNumbers() : undefined);
}

export const fuseConsecutiveReshapes = rulePass<ReshapeMatch>('fuse-consecutive-reshapes', 'merge Reshape of Reshape; cancel Unsqueeze of Squeeze on the same axes', {
  rootOps: ['Reshape', 'Unsqueeze', 'Flatten'],
  match(outer, index): Match<ReshapeMatch> {
    if (outer.opType === 'Unsqueeze') {
      const inner = index.producerOf(outer.inputs[0], 'Squeeze');
      if (!inner) return noMatch('input is not a Squeeze');
      if (index.soleConsumer(inner.outputs[0]!) !== outer) return noMatch('Squeeze has other readers');
      const a = axesOf(inner, index);
      const b = axesOf(outer, index);
      if (!a || !b || a.some((x) => x < 0) || b.some((x) => x < 0) || [...a].sort().join() !== [...b].sort().join()) return noMatch('axes differ or are not constant');
      return matched({ inner, outer, cancel: true });
    }
    const inner = index.producerOf(outer.inputs[0], 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze');
    if (!inner) return noMatch('input is not a reshaping op');
    if (index.soleConsumer(inner.outputs[0]!) !== outer) return noMatch('inner op has other readers');
    if (outer.opType === 'Reshape') {
      const shape = index.constant(outer.inputs[1]);
      if (!shape) return noMatch('outer shape is not constant');
      if (shape.toNumbers().includes(0) && outer.getInt('allowzero', 0) === 0) return noMatch('outer shape copies input dims (0)');
    } else return noMatch('Flatten after reshape kept');
    return matched({ inner, outer, cancel: false });
  },
  apply({ inner, outer, cancel }, graph: Graph) {
    setInput(outer, 0, inner.inputs[0]!);
    removeNode(graph, inner);
    // When the output cannot be rerouted (a graph input straight to a graph output), the
    // outer op must still not re-apply its axes to the unsqueezed input: it becomes a copy.
    if (cancel && !bypassNode(graph, outer, outer.inputs[0]!)) {
      outer.opType = 'Identity';
      outer.inputs = [outer.inputs[0]!];
      outer.attributes = [];
    }
    return ['fused'];
  },
});
