// int8-static Gemm/MatMul must reach onnxruntime's integer kernels: its QDQ fusion turns
// DequantizeLinear -> Gemm into QGemm only when the weight's DequantizeLinear names a zero
// point, so a symmetric weight (zero point 0) without one ran in float on dequantized weights.
import { describe, expect, it } from 'vitest';
import { DataType } from '../../src/ir/dtype.js';
import { loadModel } from '../../src/onnx/load.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { optimizeModel } from '../../src/optimize.js';
import { quantizeModel } from '../../src/quantize/index.js';
import { runSamples } from '../../src/runtime/ort.js';
import { outputsCosine } from '../helpers/metrics.js';
import { ortRuns } from '../helpers/quantized.js';
import { digitSamples } from '../helpers/mnist.js';
import { ensureMnistModel } from '../../models/train-mnist.js';
import { GraphBuilder } from '../helpers/graph-builder.js';
import { seededRandom } from '../../src/runtime/samples.js';

describe('int8-static weighted ops run in integer kernels (the example MNIST MLP)', () => {
  it('every Gemm/MatMul fuses (no float Gemm/MatMul left), their weight zero points are explicit, outputs agree', async () => {
    const file = ensureMnistModel();
    const input = loadModel(file).graph.inputs[0]!.name;
    const float = loadModel(file);
    await optimizeModel(float);
    const int8 = cloneModel(float);
    await quantizeModel(int8, { mode: 'int8-static', calibration: digitSamples(input, { from: 8000, count: 16 }).samples });
    const weighted = float.graph.nodes.filter((n) => n.opType === 'Gemm' || n.opType === 'MatMul').length;
    expect(weighted).toBeGreaterThan(0);
    for (const n of int8.graph.nodes.filter((k) => k.opType === 'DequantizeLinear' && [DataType.INT8, DataType.UINT8].includes(int8.graph.initializers.get(k.inputs[0]!)?.dataType as 2 | 3))) {
      expect(n.inputs.length, `${n.inputs[0]} dequantized without a zero point`).toBe(3);
    }
    const runs = await ortRuns(int8, 'all');
    expect((runs.Gemm ?? 0) + (runs.MatMul ?? 0)).toBe(0);
    expect((runs.QGemm ?? 0) + (runs.QLinearMatMul ?? 0) + (runs.MatMulIntegerToFloat ?? 0)).toBe(weighted);
    const scoring = digitSamples(input, { from: 9000, count: 16 }).samples;
    const [ref, got] = [await runSamples(float, scoring), await runSamples(int8, scoring)];
    expect(ref.reduce((s, r, i) => s + outputsCosine(r, got[i]!), 0) / ref.length).toBeGreaterThan(0.99);
  });
});

describe('a Q/DQ pair around a data-movement op folds away', () => {
  it('Conv -> Relu -> Reshape -> Conv: onnxruntime runs the Reshape on integers between two QLinearConv', async () => {
    // uint8 (the default): the Relu is absorbed into the first Conv's output quantization.
    for (const activationType of ['uint8'] as const) {
      const b = new GraphBuilder('reshape');
      const x = b.input('x', [1, 8, 16, 16]);
      const c1 = b.node('Conv', [x, b.weight('w1', [16, 8, 3, 3])], { pads: [1, 1, 1, 1] });
      const t = b.node('Reshape', [b.node('Relu', [c1]), b.int64('shape', [1, 32, 8, 16])]);
      b.output(b.node('Relu', [b.node('Conv', [t, b.weight('w2', [16, 32, 3, 3])], { pads: [1, 1, 1, 1] })]));
      const float = b.model(17);
      const rand = seededRandom(3);
      const calibration = Array.from({ length: 8 }, () => ({ x: { type: 'float32', dims: [1, 8, 16, 16], data: Float32Array.from({ length: 8 * 256 }, () => rand() * 2 - 1) } }));
      const int8 = cloneModel(float);
      await quantizeModel(int8, { mode: 'int8-static', calibration, activationType });
      const runs = await ortRuns(int8, 'all');
      expect(runs.QLinearConv, activationType).toBe(2);
      // Only the output's DequantizeLinear is left (the last Relu reads float): none around the Reshape.
      expect(runs.DequantizeLinear ?? 0, `${activationType}: ${JSON.stringify(runs)}`).toBe(1);
    }
  });
});

describe('a conv kept float between quantized tensors stays float in onnxruntime, or the report says why not', () => {
  // Conv A -> (Relu) -> Conv B (excluded: float) -> Relu -> Conv C. onnxruntime's
  // WeightBiasQuantization pass turns a float Conv whose input is dequantized and whose only
  // path leads to a QuantizeLinear into QLinearConv. After a Relu (A's output cannot be
  // negative) a Relu before B is exact and stops it; without one, B's reason says it runs int8.
  const build = (clampA: boolean, branch: boolean) => {
    const b = new GraphBuilder('sandwich');
    const x = b.input('x', [1, 8, 16, 16]);
    const convA = b.node('Conv', [x, b.weight('wa', [16, 8, 3, 3])], { pads: [1, 1, 1, 1] }, { name: 'A' });
    const a = clampA ? b.node('Relu', [convA]) : convA;
    const mid = b.node('Conv', [a, b.weight('wb', [16, 16, 3, 3])], { pads: [1, 1, 1, 1] }, { name: 'B' });
    const c = b.node('Conv', [b.node('Relu', [mid]), b.weight('wc', [16, 16, 3, 3])], { pads: [1, 1, 1, 1] }, { name: 'C' });
    b.output(branch ? b.node('Add', [c, mid]) : c);
    return b.model(17);
  };
  const rand = seededRandom(4);
  const calibration = Array.from({ length: 8 }, () => ({ x: { type: 'float32', dims: [1, 8, 16, 16], data: Float32Array.from({ length: 8 * 256 }, () => rand() * 2 - 1) } }));
  const cases = [
    { name: 'after a Relu: a Relu before it keeps it float', clampA: true, branch: false, qlinear: 2, note: false },
    { name: 'on a signed input: it runs in int8, and its reason says why', clampA: false, branch: false, qlinear: 3, note: true },
    { name: 'when its output also feeds another op: onnxruntime leaves it float, nothing added', clampA: false, branch: true, qlinear: 2, note: false },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const float = build(c.clampA, c.branch);
      const int8 = cloneModel(float);
      const report = await quantizeModel(int8, { mode: 'int8-static', calibration, excludeNodes: ['B'] });
      const reason = report.leftInFloat.find((l) => l.node === 'B')!.reason;
      expect(/WeightBiasQuantization/.test(reason), reason).toBe(c.note);
      const runs = await ortRuns(int8, 'extended');
      expect(runs.QLinearConv, JSON.stringify(runs)).toBe(c.qlinear);
      const [ref, got] = [await runSamples(float, calibration.slice(0, 2)), await runSamples(int8, calibration.slice(0, 2))];
      for (const [i, r] of ref.entries()) expect(outputsCosine(r, got[i]!)).toBeGreaterThan(0.99);
    });
  }
});

describe('a SiLU net keeps its elementwise Mul and the Concat after it in integer', () => {
  it('Conv -> x * sigmoid(x) (two branches) -> Concat -> Conv: QLinearMul and QLinearConcat, no float Mul or Concat, outputs agree', async () => {
    const b = new GraphBuilder('silu');
    const x = b.input('x', [1, 8, 16, 16]);
    const silu = (name: string) => {
      const c = b.node('Conv', [x, b.weight(name, [8, 8, 3, 3])], { pads: [1, 1, 1, 1] });
      return b.node('Mul', [c, b.node('Sigmoid', [c])]);
    };
    const cat = b.node('Concat', [silu('w1'), silu('w2')], { axis: 1 });
    b.output(b.node('Conv', [cat, b.weight('w3', [8, 16, 3, 3])], { pads: [1, 1, 1, 1] }));
    const float = b.model(17);
    const rand = seededRandom(5);
    const sample = () => ({ x: { type: 'float32' as const, dims: [1, 8, 16, 16], data: Float32Array.from({ length: 8 * 256 }, () => rand() * 2 - 1) } });
    const calibration = Array.from({ length: 8 }, sample);
    const int8 = cloneModel(float);
    const report = await quantizeModel(int8, { mode: 'int8-static', calibration });
    expect(report.quantized.Mul).toBe(2);
    const runs = await ortRuns(int8, 'all');
    expect(runs.QLinearMul, JSON.stringify(runs)).toBe(2);
    expect(runs.QLinearConcat, JSON.stringify(runs)).toBe(1);
    expect((runs.Mul ?? 0) + (runs.Concat ?? 0), JSON.stringify(runs)).toBe(0);
    const scoring = Array.from({ length: 4 }, sample);
    const [ref, got] = [await runSamples(float, scoring), await runSamples(int8, scoring)];
    expect(ref.reduce((s, r, i) => s + outputsCosine(r, got[i]!), 0) / ref.length).toBeGreaterThan(0.99);
  });

  it('a Mul that broadcasts (a squeeze-excite gate) or feeds a float op is not planned in integer', async () => {
    const b = new GraphBuilder('gate');
    const x = b.input('x', [1, 8, 16, 16]);
    const c = b.node('Conv', [x, b.weight('w1', [8, 8, 3, 3])], { pads: [1, 1, 1, 1] });
    const gate = b.node('Sigmoid', [b.node('GlobalAveragePool', [c])]);
    const scaled = b.node('Mul', [c, gate]);
    const c2 = b.node('Conv', [scaled, b.weight('w2', [8, 8, 3, 3])], { pads: [1, 1, 1, 1] });
    b.output(b.node('Softmax', [b.node('Mul', [c2, b.node('Sigmoid', [c2])])], { axis: 1 }));
    const rand = seededRandom(6);
    const calibration = Array.from({ length: 4 }, () => ({ x: { type: 'float32' as const, dims: [1, 8, 16, 16], data: Float32Array.from({ length: 8 * 256 }, () => rand() * 2 - 1) } }));
    const int8 = b.model(17);
    const report = await quantizeModel(int8, { mode: 'int8-static', calibration });
    expect(report.quantized.Mul ?? 0).toBe(0);
  });
});

describe("a Gemm's [1, N] bias (PyTorch and CNTK exports)", () => {
  it('is quantized to int32 [N], so onnxruntime fuses the Gemm into QGemm; outputs agree', async () => {
    const b = new GraphBuilder('gemm-bias-2d');
    const x = b.input('x', [1, 64]);
    const h = b.node('Relu', [b.node('Gemm', [x, b.weight('w1', [64, 32]), b.weight('b1', [1, 32])], {}, { name: 'first' })]);
    b.output(b.node('Gemm', [h, b.weight('w2', [32, 10]), b.weight('b2', [1, 10])], {}, { name: 'head' }));
    const float = b.model(17);
    const rand = seededRandom(5);
    const sample = () => ({ x: { type: 'float32', dims: [1, 64], data: Float32Array.from({ length: 64 }, () => rand() * 2 - 1) } });
    const int8 = cloneModel(float);
    await quantizeModel(int8, { mode: 'int8-static', calibration: Array.from({ length: 8 }, sample) });
    const biases = int8.graph.nodes.filter((n) => n.opType === 'Gemm').map((n) => int8.graph.nodes.find((d) => d.outputs[0] === n.inputs[2]));
    for (const dq of biases) {
      expect(dq?.opType).toBe('DequantizeLinear');
      const q = int8.graph.initializers.get(dq!.inputs[0]!)!;
      expect(q.dataType).toBe(DataType.INT32);
      expect(q.dims.length).toBe(1);
    }
    const runs = await ortRuns(int8, 'all');
    expect(runs.Gemm ?? 0, JSON.stringify(runs)).toBe(0);
    expect(runs.QGemm).toBe(2);
    const scoring = Array.from({ length: 8 }, sample);
    const [ref, got] = [await runSamples(float, scoring), await runSamples(int8, scoring)];
    expect(ref.reduce((s, r, i) => s + outputsCosine(r, got[i]!), 0) / ref.length).toBeGreaterThan(0.99);
  });
});
