// The decomposed layer normalization exporters emit before opset 17,
//   d = x - ReduceMean(x); y = d / Sqrt(ReduceMean(d^2) + eps) * gamma + beta,
// is one LayerNormalization (opset >= 17) over the same trailing axes.
import type { Graph, Node } from '../src/ir/graph.js';
import { attr } from '../src/ir/graph.js';
import { removeNodes, setInputs } from '../src/ir/mutate.js';
import { inferShapes } from '../src/ir/shapes.js';
import { GraphIndex, matched, noMatch, rulePass, type Match } from '../src/pass/rule.js';

interface LnMatch { x: string; gamma: string; beta: string; axis: number; epsilon: number; nodes: Node[]; out: Node }

/** The other input of a binary node, given one of them. */
const other = (n: Node, name: string) => (n.inputs[0] === name ? n.inputs[1] : n.inputs[0]);

function reduceAxes(n: Node, index: GraphIndex): number[] | undefined {
  return n.getInts('axes') ?? (n.inputs[1] ? index.constant(n.inputs[1])?.toNumbers() : undefined);
}

export const fuseLayerNorm = rulePass<LnMatch>('fuse-layer-norm', 'fuse the decomposed layer normalization into LayerNormalization (opset >= 17)', {
  rootOps: ['Add'],
  match(add, index, ctx): Match<LnMatch> {
    if (ctx.opset < 17) return noMatch('opset below 17');
    const mul = index.producerOf(add.inputs[0], 'Mul') ?? index.producerOf(add.inputs[1], 'Mul');
    if (!mul || index.soleConsumer(mul.outputs[0]!) !== add) return noMatch('no Mul by gamma');
    const beta = other(add, mul.outputs[0]!)!;
    const div = index.producerOf(mul.inputs[0], 'Div') ?? index.producerOf(mul.inputs[1], 'Div');
    if (!div || index.soleConsumer(div.outputs[0]!) !== mul) return noMatch('no normalizing Div');
    const gamma = other(mul, div.outputs[0]!)!;
    const sqrt = index.producerOf(div.inputs[1], 'Sqrt');
    const sub = index.producerOf(div.inputs[0], 'Sub');
    if (!sqrt || !sub || index.soleConsumer(sqrt.outputs[0]!) !== div) return noMatch('no x - mean over Sqrt(var + eps)');
    const addEps = index.producerOf(sqrt.inputs[0], 'Add');
    if (!addEps || index.soleConsumer(addEps.outputs[0]!) !== sqrt) return noMatch('no epsilon Add');
    const varMean = index.producerOf(addEps.inputs[0], 'ReduceMean') ?? index.producerOf(addEps.inputs[1], 'ReduceMean');
    const epsTensor = index.constant(other(addEps, varMean?.outputs[0] ?? ''));
    if (!varMean || !epsTensor || epsTensor.elementCount !== 1 || index.soleConsumer(varMean.outputs[0]!) !== addEps) return noMatch('no variance ReduceMean with a constant epsilon');
    const square = index.producerOf(varMean.inputs[0], 'Pow', 'Mul');
    if (!square || index.soleConsumer(square.outputs[0]!) !== varMean) return noMatch('variance is not of a square');
    const d = sub.outputs[0]!;
    const isSquare = square.opType === 'Mul' ? square.inputs[0] === d && square.inputs[1] === d : square.inputs[0] === d && index.constant(square.inputs[1])?.toFloat32()[0] === 2;
    if (!isSquare) return noMatch('not (x - mean)^2');
    const readers = index.consumers.get(d) ?? [];
    if (readers.length !== 2 || !readers.includes(square) || !readers.includes(div) || index.graphOutputs.has(d)) return noMatch('x - mean has other readers');
    const x = sub.inputs[0]!;
    const mean = index.producerOf(sub.inputs[1], 'ReduceMean');
    if (!mean || mean.inputs[0] !== x || index.soleConsumer(mean.outputs[0]!) !== sub) return noMatch('mean is not ReduceMean of the same x');
    const rank = inferShapes(index.graph).get(x)?.dims?.length;
    const [a1, a2] = [reduceAxes(mean, index), reduceAxes(varMean, index)];
    if (rank === undefined || !a1 || !a2) return noMatch('axes or rank unknown');
    const norm = (axes: number[]) => axes.map((a) => (a < 0 ? a + rank : a)).sort((p, q) => p - q);
    const axes = norm(a1);
    if (axes.join() !== norm(a2).join() || axes.some((a, i) => a !== rank - axes.length + i)) return noMatch('not the same trailing axes');
    if (mean.getInt('keepdims', 1) !== 1 || varMean.getInt('keepdims', 1) !== 1) return noMatch('keepdims is 0');
    const [g, b] = [index.constant(gamma), index.constant(beta)];
    if (!g || !b) return noMatch('gamma or beta is not constant');
    const normalized = axes.length;
    const shapeOk = (t: typeof g) => t.dims.length <= normalized;
    if (!shapeOk(g) || !shapeOk(b)) return noMatch('gamma/beta broadcast over more than the normalized axes');
    return matched({ x, gamma, beta, axis: axes[0]! - rank, epsilon: epsTensor.toFloat32()[0]!, nodes: [mean, sub, square, varMean, addEps, sqrt, div, mul], out: add });
  },
  apply(m, graph: Graph) {
    const out = m.out;
    out.opType = 'LayerNormalization';
    setInputs(out, [m.x, m.gamma, m.beta]);
    out.attributes = [attr.int('axis', m.axis), attr.float('epsilon', m.epsilon)];
    removeNodes(graph, m.nodes);
    return ['fused'];
  },
});
