// Range drift on real digits: a model calibrated on one digit class saturates far more of
// its activations on all digits than one calibrated on all of them.
import { describe, expect, it } from 'vitest';
import { clipRates } from '../../src/measure/clip-rate.js';
import { loadModel } from '../../src/onnx/load.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { quantizeModel } from '../../src/quantize/index.js';
import { ensureMnistModel, TRAIN_COUNT } from '../../models/train-mnist.js';
import { digitSamples } from '../helpers/mnist.js';

describe('calibration-range drift', () => {
  const original = loadModel(ensureMnistModel());
  const input = original.graph.inputs[0]!.name;
  const pool = digitSamples(input, { from: TRAIN_COUNT, count: 600 });
  const calibrateOn = (keep: (label: number) => boolean) => pool.samples.slice(0, 400).filter((_, i) => keep(pool.labels[i]!));
  const production = pool.samples.slice(400);
  const quantized = async (calibration: typeof production) => {
    const m = cloneModel(original);
    await quantizeModel(m, { mode: 'int8-static', calibration, method: 'minmax' });
    return m;
  };

  it('calibrated on the digit 1 only: a high clip rate on all digits; on all digits: a low one', async () => {
    const narrow = await clipRates(await quantized(calibrateOn((l) => l === 1)), production);
    const broad = await clipRates(await quantized(calibrateOn(() => true)), production);
    const pct = (r: number) => `${(100 * r).toFixed(3)}%`;
    console.log(`clip rate on 200 held-out digits, worst tensor / overall: calibrated on 1s ${pct(narrow.tensors[0]!.rate)} / ${pct(narrow.overall.rate)}, on all digits ${pct(broad.tensors[0]!.rate)} / ${pct(broad.overall.rate)}`);
    expect(narrow.tensors.length).toBeGreaterThan(1);
    // Measured: 1.6% of fc1 saturates against 0.02%; the input pixels never do.
    expect(narrow.tensors[0]!.rate).toBeGreaterThan(0.005);
    expect(broad.tensors[0]!.rate).toBeLessThan(narrow.tensors[0]!.rate / 10);
    expect(broad.overall.rate).toBeLessThan(narrow.overall.rate / 10);
    expect(narrow.tensors[0]!.rate).toBeGreaterThanOrEqual(narrow.tensors.at(-1)!.rate);
    // On its own calibration samples a minmax range saturates (almost) nothing: only values
    // within half a step of the edge, where the rounded zero point shifts the grid.
    const own = await clipRates(await quantized(calibrateOn(() => true)), calibrateOn(() => true));
    expect(own.overall.rate).toBeLessThan(1e-4);
  });

  it('a float model is refused with a reason', async () => {
    await expect(clipRates(original, production.slice(0, 2))).rejects.toThrow(/not a static QDQ model/);
  });
});
