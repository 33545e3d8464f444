// What a weighted op left float reads, and what techniques do to it: the value as computed
// (a graph input, its Cast from float16), not an 8-bit rounding of it made for another
// reader, at any input position; and bias correction leaves its bias alone (its weights
// are not rounded).
import { describe, expect, it } from 'vitest';
import { DataType, GraphBuilder } from '../helpers/graph-builder.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { quantizeModel } from '../../src/quantize/index.js';
import { generateSamples } from '../../src/runtime/samples.js';
import { openSession } from '../../src/runtime/ort.js';
import type { Model } from '../../src/ir/graph.js';
import { ortRuns } from '../helpers/quantized.js';

async function samples(model: Model, count: number, seed: number) {
  const s = await openSession(model);
  try {
    return generateSamples(s.inputs, count, seed, { ranges: Object.fromEntries(s.inputs.map((i) => [i.name, [-1, 1] as [number, number]])) });
  } finally {
    await s.release();
  }
}

/** image (float16 behind a Cast, or float) -> a narrow conv (3 -> 16, kept float) and a wide one (3 -> 64, int8). */
function twoReaders(half: boolean) {
  const b = new GraphBuilder('two-readers', 11);
  let x = b.input('image', [1, 3, 32, 32], half ? DataType.FLOAT16 : DataType.FLOAT);
  if (half) x = b.node('Cast', [x], { to: DataType.FLOAT });
  const conv = (name: string, input: string, o: number, c: number) => b.node('Relu', [b.node('Conv', [input, b.weight(`w_${name}`, [o, c, 3, 3], undefined, [-0.5, 0.5]), b.weight(`b_${name}`, [o])], { pads: [1, 1, 1, 1] }, { name })]);
  const after = conv('after', conv('narrow', x, 16, 3), 64, 16);
  b.output(b.node('Add', [after, conv('wide', x, 64, 3)]));
  return b.model(17);
}

describe('weighted ops left float read the value unrounded', () => {
  for (const half of [false, true]) {
    it(`a ${half ? 'float16 input (through its Cast)' : 'float input'} quantized for a wide conv: the narrow conv reads it as computed, and onnxruntime runs it float`, async () => {
      const float = twoReaders(half);
      const int8 = cloneModel(float);
      const report = await quantizeModel(int8, { mode: 'int8-static', calibration: await samples(float, 4, 1) });
      expect(report.leftInFloat.map((l) => l.node)).toContain('narrow');
      const producers = int8.graph.producers();
      const narrow = int8.graph.nodes.find((n) => n.name === 'narrow')!;
      expect(producers.get(narrow.inputs[0]!)?.opType ?? 'graph input').toBe(half ? 'Cast' : 'graph input');
      const runs = await ortRuns(int8, 'extended');
      expect(runs.QLinearConv, JSON.stringify(runs)).toBe(2);
      expect(runs.Conv).toBe(1);
    });
  }

  it('at any input position: an excluded MatMul(W, x) reads x itself while another MatMul quantizes it', async () => {
    const b = new GraphBuilder('matmuls');
    const x = b.input('x', [64, 64]);
    const wide = b.node('MatMul', [x, b.weight('w1', [64, 64])], {}, { name: 'wide' });
    const left = b.node('MatMul', [b.weight('w2', [64, 64]), x], {}, { name: 'left' });
    b.output(b.node('Add', [wide, left]));
    const float = b.model(17);
    const int8 = cloneModel(float);
    await quantizeModel(int8, { mode: 'int8-static', calibration: await samples(float, 4, 1), excludeNodes: ['left'] });
    expect(int8.graph.nodes.find((n) => n.name === 'left')!.inputs[1]).toBe('x');
    expect(int8.graph.nodes.find((n) => n.name === 'wide')!.inputs[0]).not.toBe('x');
  });

  it('bias correction corrects only the biases of convs whose weights are rounded', async () => {
    const float = twoReaders(false);
    const int8 = cloneModel(float);
    const report = await quantizeModel(int8, { mode: 'int8-static', method: 'minmax', biasCorrection: true, calibration: await samples(float, 8, 1) });
    const narrow = int8.graph.nodes.find((n) => n.name === 'narrow')!;
    expect([...int8.graph.initializers.get(narrow.inputs[2]!)!.toFloat32()]).toEqual([...float.graph.initializers.get('b_narrow')!.toFloat32()]);
    // The other two convs ('after', 'wide') run int8: their biases are the ones corrected.
    expect(report.techniques?.find((t) => t.name === 'biasCorrection')?.layers).toBe(2);
  });
});
