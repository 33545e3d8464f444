// x * 0.5 * (1 + Erf(x / sqrt(2))), as exporters write GELU before opset 20, is one Gelu.
import type { Graph, Node } from '../src/ir/graph.js';
import { removeNodes, setInputs } from '../src/ir/mutate.js';
import { matched, noMatch, rulePass, type GraphIndex, type Match } from '../src/pass/rule.js';

interface GeluMatch { x: string; out: Node; nodes: Node[] }

const near = (v: number | undefined, want: number) => v !== undefined && Math.abs(v - want) < 1e-4;
function scalar(index: GraphIndex, name: string | undefined): number | undefined {
  const t = index.constant(name);
  return t && t.elementCount === 1 ? t.toFloat32()[0] : undefined;
}
const otherInput = (n: Node, name: string) => (n.inputs[0] === name ? n.inputs[1] : n.inputs[0]);

export const fuseGelu = rulePass<GeluMatch>('fuse-gelu', 'fuse x * 0.5 * (1 + Erf(x / sqrt(2))) into Gelu (opset >= 20)', {
  rootOps: ['Mul'],
  match(root, index, ctx): Match<GeluMatch> {
    if (ctx.opset < 20) return noMatch('opset below 20');
    // Either (x * (1 + erf)) * 0.5, or (x * 0.5) * (1 + erf).
    for (const [innerName, outerOther] of [[root.inputs[0], root.inputs[1]], [root.inputs[1], root.inputs[0]]] as const) {
      const inner = index.producerOf(innerName, 'Mul');
      if (!inner || index.soleConsumer(inner.outputs[0]!) !== root) continue;
      const onePlus = index.producerOf(inner.inputs[0], 'Add') ?? index.producerOf(inner.inputs[1], 'Add') ?? index.producerOf(outerOther, 'Add');
      if (!onePlus) continue;
      const erf = index.producerOf(onePlus.inputs[0], 'Erf') ?? index.producerOf(onePlus.inputs[1], 'Erf');
      if (!erf || !near(scalar(index, otherInput(onePlus, erf.outputs[0]!)), 1) || index.soleConsumer(erf.outputs[0]!) !== onePlus) continue;
      const scale = index.producerOf(erf.inputs[0], 'Div', 'Mul');
      if (!scale || index.soleConsumer(scale.outputs[0]!) !== erf) continue;
      const x = scale.inputs[0]!;
      const k = scalar(index, scale.inputs[1]);
      if (!(scale.opType === 'Div' ? near(k, Math.SQRT2) : near(k, Math.SQRT1_2))) continue;
      const halfAtRoot = near(scalar(index, outerOther), 0.5) && otherInput(inner, onePlus.outputs[0]!) === x;
      const halfInside = onePlus.outputs[0] === outerOther && near(scalar(index, otherInput(inner, x)), 0.5) && inner.inputs.includes(x);
      if (!halfAtRoot && !halfInside) continue;
      if (index.soleConsumer(onePlus.outputs[0]!) !== (halfAtRoot ? inner : root)) continue;
      return matched({ x, out: root, nodes: [scale, erf, onePlus, inner] });
    }
    return noMatch('not the erf form of GELU');
  },
  apply(m, graph: Graph) {
    m.out.opType = 'Gelu';
    setInputs(m.out, [m.x]);
    m.out.attributes = [];
    removeNodes(graph, m.nodes);
    return ['fused'];
  },
});
