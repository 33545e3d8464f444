import { GraphBuilder } from '../helpers/graph-builder.js';
import { inCustomDomain, testPass } from '../helpers/pass-tester.js';

function sum(dims: number[][], opset = 13) {
  return () => {
    const b = new GraphBuilder();
    const xs = dims.map((d, i) => b.node('Relu', [b.input(`x${i}`, d)]));
    b.output(b.node('Neg', [b.node('Sum', xs)]));
    return b.model(opset);
  };
}

testPass('sum-to-add', {
  kind: 'cleanup',
  invalid: [
    { name: 'a residual Sum of two equal shapes', build: sum([[1, 8, 4, 4], [1, 8, 4, 4]]), ops: { Sum: 0, Add: 1 }, stats: { rewritten: 1 } },
    { name: 'two inputs that broadcast', build: sum([[2, 3, 4], [4]]), ops: { Sum: 0, Add: 1 }, stats: { rewritten: 1 } },
    { name: 'opset 7', build: sum([[2, 3], [2, 3]], 7), ops: { Sum: 0, Add: 1 }, stats: { rewritten: 1 } },
  ],
  valid: [
    { name: 'a Sum of three inputs', build: sum([[2, 3], [2, 3], [2, 3]]), diagnostic: '3 inputs' },
    { name: 'a Sum of one input', build: sum([[2, 3]]), diagnostic: '1 inputs' },
    { name: 'opset 6 (onnxruntime has Sum-6 but no Add-6)', build: sum([[2, 3], [2, 3]], 6), diagnostic: 'no Add below 7' },
    { name: 'a Sum of a custom domain', build: inCustomDomain(sum([[2, 3], [2, 3]]), 'Sum') },
  ],
});
