// 16-bit activations (int16/uint16 QDQ at opset 21) and the per-pair sensitivity that picks
// which activations to widen, on the example MNIST classifier with real digits (a clone has both).
import { describe, expect, it } from 'vitest';
import { DataType } from '../../src/ir/dtype.js';
import type { Model } from '../../src/ir/graph.js';
import { loadModel } from '../../src/onnx/load.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { serializeModel } from '../../src/onnx/save.js';
import { optimizeModel } from '../../src/optimize.js';
import { evalModels } from '../../src/measure/eval.js';
import { quantizeModel } from '../../src/quantize/index.js';
import { quantizationSensitivity } from '../../src/quantize/sensitivity.js';
import { qdqPairs } from '../../src/quantize/qdq-pairs.js';
import { digitSamples } from '../helpers/mnist.js';
import { GraphBuilder } from '../helpers/graph-builder.js';
import { seededRandom } from '../../src/runtime/samples.js';
import { ensureMnistModel, TRAIN_COUNT } from '../../models/train-mnist.js';

const calibration = digitSamples('image', { from: TRAIN_COUNT, count: 64 }).samples;
const scoring = digitSamples('image', { from: TRAIN_COUNT + 500, count: 200 }).samples;

async function floatModel(): Promise<Model> {
  const m = loadModel(ensureMnistModel());
  await optimizeModel(m);
  return m;
}

/** Relative output error of `candidate` against `reference` on the scoring digits. */
async function relError(reference: Model, candidate: Model): Promise<number> {
  return Object.values((await evalModels(reference, candidate, { samples: scoring, quiet: true })).outputs)[0]!.rel;
}

function zeroPointTypes(m: Model): number[] {
  return m.graph.nodes.filter((n) => n.opType === 'QuantizeLinear').map((n) => m.graph.findInitializer(n.inputs[2] ?? '')?.dataType ?? DataType.UINT8);
}

describe('16-bit activations', () => {
  it('uint16 activations: opset 21, every Q/DQ pair 16-bit, weights still int8, far closer to float than uint8', async () => {
    const float = await floatModel();
    const [q8, q16] = [cloneModel(float), cloneModel(float)];
    await quantizeModel(q8, { mode: 'int8-static', method: 'minmax', calibration });
    const report = await quantizeModel(q16, { mode: 'int8-static', method: 'minmax', calibration, activationType: 'uint16' });
    expect(report.opset.to).toBe(21);
    expect(zeroPointTypes(q16).length).toBeGreaterThan(0);
    expect(new Set(zeroPointTypes(q16))).toEqual(new Set([DataType.UINT16]));
    const weightTypes = q16.graph.nodes.filter((n) => n.opType === 'DequantizeLinear').map((n) => q16.graph.findInitializer(n.inputs[0]!)?.dataType).filter((t) => t !== undefined);
    expect(weightTypes).toContain(DataType.INT8);
    // The files are as small: weights decide the size, not the activation scalars.
    expect(serializeModel(q16).byteLength / serializeModel(q8).byteLength).toBeLessThan(1.02);
    // The same calibrated ranges, 257 times finer steps (this model's error is its weights', so the output gains less).
    const scaleOf = (m: Model, tensor: string) => { const dq = m.graph.producers().get(tensor)!; return m.graph.findInitializer(dq.inputs[1]!)!.toFloat32()[0]!; };
    const pairs = qdqPairs(q8.graph);
    for (const p of pairs) expect(scaleOf(q8, p.y) / scaleOf(q16, p.y)).toBeCloseTo(65535 / 255, 1);
    const [e8, e16] = [await relError(float, q8), await relError(float, q16)];
    expect(e16, `uint8 ${e8}, uint16 ${e16}`).toBeLessThan(e8);
  });

  it('wideTensors widens exactly the named activations', async () => {
    const float = await floatModel();
    const probe = cloneModel(float);
    await quantizeModel(probe, { mode: 'int8-static', method: 'minmax', calibration });
    const chosen = qdqPairs(probe.graph)[0]!.tensor;
    const m = cloneModel(float);
    await quantizeModel(m, { mode: 'int8-static', method: 'minmax', calibration, wideTensors: [chosen] });
    const producers = m.graph.producers();
    const typeOf = (y: string) => m.graph.findInitializer(producers.get(producers.get(y)!.inputs[0]!)!.inputs[2] ?? '')?.dataType;
    expect(qdqPairs(m.graph).filter((p) => typeOf(p.y) === DataType.UINT16).map((p) => p.tensor)).toEqual([chosen]);
  });

  it('widening a tensor that shares its scale (a Reshape output) widens the tensor it shares with', async () => {
    const b = new GraphBuilder('reshape');
    const x = b.input('x', [1, 8, 16, 16]);
    const c1 = b.node('Conv', [x, b.weight('w1', [16, 8, 3, 3])], { pads: [1, 1, 1, 1] });
    const t = b.node('Reshape', [b.node('Relu', [c1]), b.int64('shape', [1, 32, 8, 16])]);
    b.output(b.node('Conv', [t, b.weight('w2', [16, 32, 3, 3])], { pads: [1, 1, 1, 1] }));
    const rand = seededRandom(3);
    const cal = Array.from({ length: 8 }, () => ({ x: { type: 'float32', dims: [1, 8, 16, 16], data: Float32Array.from({ length: 8 * 256 }, () => rand() * 2 - 1) } }));
    const m = b.model(17);
    await quantizeModel(m, { mode: 'int8-static', method: 'minmax', calibration: cal, wideTensors: [t] });
    expect(zeroPointTypes(m)).toContain(DataType.UINT16);
  });

  it('quantizationSensitivity: widening the top-ranked activation removes more output error than widening the last-ranked one; weights are ranked given the float model', async () => {
    const float = await floatModel();
    const q8 = cloneModel(float);
    await quantizeModel(q8, { mode: 'int8-static', method: 'minmax', calibration });
    const ranked = (await quantizationSensitivity(q8, calibration.slice(0, 8))).map((e) => e.name);
    expect(ranked.length).toBe(qdqPairs(q8.graph).length);
    const widened = async (tensor: string) => {
      const m = cloneModel(float);
      await quantizeModel(m, { mode: 'int8-static', method: 'minmax', calibration, wideTensors: [tensor] });
      return relError(float, m);
    };
    const [top, last] = [await widened(ranked[0]!), await widened(ranked[ranked.length - 1]!)];
    expect(top, `top ${ranked[0]} ${top}, last ${ranked[ranked.length - 1]} ${last}`).toBeLessThan(last);
    // With the float model its three Gemm weights are switched too, and ranked among the activations.
    const all = await quantizationSensitivity(q8, calibration.slice(0, 8), float);
    expect(all.filter((e) => e.kind === 'weight').map((e) => e.name).sort()).toEqual(['fc1', 'fc2', 'fc3']);
    expect(all.every((e, i) => i === 0 || all[i - 1]!.loss >= e.loss)).toBe(true);
    expect(all.every((e) => e.loss > 0)).toBe(true);
  });

  it("minCosine with fallback '16-bit' widens the fewest ranked activations that meet it, and the file stays as small", async () => {
    const float = await floatModel();
    const plain = cloneModel(float);
    await quantizeModel(plain, { mode: 'int8-static', method: 'minmax', calibration });
    const cosine = Object.values((await evalModels(float, plain, { samples: calibration, quiet: true })).outputs)[0]!.cosine;
    expect(cosine).toBeLessThan(1);
    // Halfway from the plain int8 cosine to 1: plain int8 misses it, all-16-bit meets it.
    const minCosine = cosine + (1 - cosine) / 2;
    const m = cloneModel(float);
    const report = await quantizeModel(m, { mode: 'int8-static', method: 'minmax', calibration, minCosine, fallback: '16-bit' });
    const t = report.tolerance!;
    expect(t.fallback).toBe('16-bit');
    expect(t.met, JSON.stringify(t)).toBe(true);
    expect(t.widened.length).toBeGreaterThan(0);
    expect(t.returnedToFloat).toEqual([]);
    expect(t.after).toBeGreaterThanOrEqual(minCosine);
    expect(serializeModel(m).byteLength / serializeModel(plain).byteLength).toBeLessThan(1.02);
  });

});
