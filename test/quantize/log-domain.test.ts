// A linear op whose output feeds a Log (log-mel front ends: power spectrum -> mel MatMul ->
// Clip -> Log) stays float in int8-static: an 8-bit grid on its input zeroes the quiet values
// that the Log magnifies. The same graph without the Log is quantized as usual.
import { describe, expect, it } from 'vitest';
import { quantizeModel } from '../../src/quantize/index.js';
import { runSamples } from '../../src/runtime/ort.js';
import { seededRandom, type Sample } from '../../src/runtime/samples.js';
import { serializeModel } from '../../src/onnx/save.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { GraphBuilder } from '../helpers/graph-builder.js';
import { outputsCosine } from '../helpers/metrics.js';

function melLike(withLog: boolean) {
  const b = new GraphBuilder('mel');
  const x = b.input('power', [1, 64]);
  const mel = b.node('MatMul', [x, b.weight('filterbank', [64, 16], undefined, [0, 1])]);
  const clipped = b.node('Clip', [mel, b.scalar('floor', 1e-10)]);
  b.output(withLog ? b.node('Log', [clipped]) : clipped);
  return b.model(17);
}

/** Power-spectrum-like inputs: values spread over eight decades. */
function powers(count: number, seed: number): Sample[] {
  const rand = seededRandom(seed);
  return Array.from({ length: count }, () => ({ power: { type: 'float32', dims: [1, 64], data: Float32Array.from({ length: 64 }, () => 10 ** (-6 + 8 * rand())) } }));
}

describe('int8-static placement before a Log', () => {
  it('keeps a MatMul feeding Clip -> Log in float and says why (here that leaves nothing to quantize, so it refuses)', async () => {
    for (const mode of ['int8-static', 'int8-dynamic'] as const) {
      await expect(quantizeModel(melLike(true), { mode, calibration: powers(16, 1) }), mode).rejects.toThrow(/^nothing was quantized: 1 node\(s\) \(first: [^)]+, MatMul\): its output feeds a Log/);
    }
  });

  it('with more around it, the rest is quantized and the outputs stay those of float', async () => {
    const b = new GraphBuilder('mel-head');
    const x = b.input('power', [1, 64]);
    const mel = b.node('MatMul', [x, b.weight('filterbank', [64, 16], undefined, [0, 1])]);
    const logMel = b.node('Log', [b.node('Clip', [mel, b.scalar('floor', 1e-10)])]);
    b.output(b.node('MatMul', [logMel, b.weight('head', [16, 8])]));
    const float = b.model(17);
    const int8 = cloneModel(float);
    const report = await quantizeModel(int8, { mode: 'int8-static', calibration: powers(16, 1) });
    expect(report.quantized.MatMul).toBe(1);
    expect(report.leftInFloat.find((l) => l.opType === 'MatMul')?.reason).toMatch(/feeds a Log/);
    const scoring = powers(8, 2);
    const [ref, got] = [await runSamples(serializeModel(float), scoring), await runSamples(serializeModel(int8), scoring)];
    expect(ref.reduce((s, r, i) => s + outputsCosine(r, got[i]!), 0) / ref.length).toBeGreaterThan(0.999);
  });

  it('quantizes the same MatMul when no Log follows', async () => {
    const report = await quantizeModel(melLike(false), { mode: 'int8-static', calibration: powers(16, 1) });
    expect(report.quantized.MatMul).toBe(1);
    expect(report.leftInFloat.filter((l) => l.opType === 'MatMul')).toEqual([]);
  });
});
