import { GraphBuilder } from '../helpers/graph-builder.js';
import { escapeCases, inCustomDomain, testPass } from '../helpers/pass-tester.js';

interface Options {
  opset?: number;
  /** (x * 0.5) * (1 + erf) instead of (x * (1 + erf)) * 0.5. */
  halfFirst?: boolean;
  /** x * (1/sqrt 2) instead of x / sqrt 2. */
  byMul?: boolean;
  half?: number;
  extra?: (b: GraphBuilder, erf: string) => void;
}

// x * 0.5 * (1 + Erf(x / sqrt 2)) over x[3,16], as exporters write GELU before opset 20.
function gelu(o: Options = {}) {
  return () => {
    const b = new GraphBuilder();
    const x = b.input('x', [3, 16]);
    const scaled = o.byMul ? b.node('Mul', [x, b.scalar('k', Math.SQRT1_2)]) : b.node('Div', [x, b.scalar('k', Math.SQRT2)]);
    const erf = b.node('Erf', [scaled]);
    const onePlus = b.node('Add', [erf, b.scalar('one', 1)]);
    const half = b.scalar('half', o.half ?? 0.5);
    b.output(o.halfFirst ? b.node('Mul', [b.node('Mul', [x, half]), onePlus]) : b.node('Mul', [b.node('Mul', [x, onePlus]), half]));
    o.extra?.(b, erf);
    return b.model(o.opset ?? 20);
  };
}

const fused = { ops: { Gelu: 1 }, nodeCount: 1, stats: { fused: 1 } };

testPass('fuse-gelu', {
  kind: 'fusion',
  invalid: [
    { name: '0.5 applied last', build: gelu(), ...fused },
    { name: 'x * 0.5 first', build: gelu({ halfFirst: true }), ...fused },
    { name: 'x times 1/sqrt 2', build: gelu({ byMul: true }), ...fused },
  ],
  valid: [
    { name: 'opset 19 (no Gelu yet)', build: gelu({ opset: 19 }), diagnostic: 'opset below 20' },
    { name: 'a factor other than 0.5', build: gelu({ half: 0.4 }), diagnostic: 'not the erf form of GELU' },
    ...escapeCases('the Erf output', (extra) => gelu({ extra }), 'not the erf form of GELU'),
    { name: 'an Erf of a custom domain', build: inCustomDomain(gelu(), 'Erf'), diagnostic: 'not the erf form of GELU' },
  ],
});
