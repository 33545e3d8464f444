import { expect } from 'vitest';
import { GraphBuilder, type Attrs } from '../helpers/graph-builder.js';
import { escapeCases, inCustomDomain, testPass } from '../helpers/pass-tester.js';

interface Options {
  opset?: number;
  varianceAxes?: number[];
  squareByMul?: boolean;
  gammaInput?: boolean;
  gammaDims?: number[];
  keepdims?: number;
  extra?: (b: GraphBuilder, d: string) => void;
}

// The exporter's decomposition over the last axis of x[2,4,8]:
// d = x - ReduceMean(x); y = d / Sqrt(ReduceMean(d^2) + eps) * gamma + beta
function layerNorm(o: Options = {}) {
  return () => {
    const b = new GraphBuilder();
    const x = b.input('x', [2, 4, 8]);
    const axesInput = (o.opset ?? 17) >= 18;
    const reduceMean = (v: string, axes: number[], attrs: Attrs = {}) =>
      axesInput ? b.node('ReduceMean', [v, b.int64(`axes${axes.join('_')}`, axes)], attrs) : b.node('ReduceMean', [v], { axes, ...attrs });
    const mean = reduceMean(x, [-1]);
    const d = b.node('Sub', [x, mean]);
    const sq = o.squareByMul ? b.node('Mul', [d, d]) : b.node('Pow', [d, b.scalar('two', 2)]);
    const variance = reduceMean(sq, o.varianceAxes ?? [-1], o.keepdims !== undefined ? { keepdims: o.keepdims } : {});
    // A large epsilon, so that a fusion dropping or changing it shows in the outputs.
    const std = b.node('Sqrt', [b.node('Add', [variance, b.scalar('eps', 1e-2)])]);
    const norm = b.node('Div', [d, std]);
    const gamma = o.gammaInput ? b.input('gamma', [8]) : b.weight('gamma', o.gammaDims ?? [8]);
    b.output(b.node('Add', [b.node('Mul', [norm, gamma]), b.weight('beta', [8])]));
    o.extra?.(b, d);
    return b.model(o.opset ?? 17);
  };
}

const fused = { ops: { LayerNormalization: 1 }, nodeCount: 1, stats: { fused: 1 } };

testPass('fuse-layer-norm', {
  kind: 'fusion',
  invalid: [
    { name: 'the exporter pattern at opset 17', build: layerNorm(), ...fused, check: (m) => expect(m.graph.nodes[0]!.getInt('axis')).toBe(-1) },
    { name: 'a scalar gamma', build: layerNorm({ gammaDims: [] }), ...fused },
    { name: 'a [1] gamma', build: layerNorm({ gammaDims: [1] }), ...fused },
    { name: 'opset 18, axes given as an input', build: layerNorm({ opset: 18 }), ...fused },
    { name: 'the square written as d * d', build: layerNorm({ squareByMul: true }), ...fused },
  ],
  valid: [
    { name: 'opset 16 (no LayerNormalization yet)', build: layerNorm({ opset: 16 }), diagnostic: 'opset below 17' },
    { name: 'the variance over other axes', build: layerNorm({ varianceAxes: [-2] }), diagnostic: 'not the same trailing axes' },
    { name: 'keepdims 0 on the variance', build: layerNorm({ keepdims: 0 }), diagnostic: 'keepdims is 0' },
    { name: 'gamma fed at run time', build: layerNorm({ gammaInput: true }), diagnostic: 'gamma or beta is not constant' },
    ...escapeCases('x - mean', (extra) => layerNorm({ extra }), 'x - mean has other readers'),
    { name: 'a Sqrt of a custom domain', build: inCustomDomain(layerNorm(), 'Sqrt'), diagnostic: 'no x - mean over Sqrt(var + eps)' },
  ],
});
