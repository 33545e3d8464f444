// The mnist package's digits as model inputs, and top-1 accuracy computed by a plain loop.
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Model } from '../../src/ir/graph.js';
import { Tensor } from '../../src/ir/tensor.js';
import { replaceInitializer } from '../../src/ir/mutate.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { openSession } from '../../src/runtime/ort.js';
import type { Sample } from '../../src/runtime/samples.js';
import { readMnistDigits } from '../../models/mnist-digits.js';
import { exportMnistDigits } from '../../models/export-mnist-digits.js';
import { ensureMnistModel, TRAIN_COUNT } from '../../models/train-mnist.js';

export interface DigitOptions { from: number; count: number; plusMinusOne?: boolean; dims?: number[] }

export function digitSamples(inputName: string, o: DigitOptions): { samples: Sample[]; labels: number[] } {
  const { images, labels } = readMnistDigits();
  const samples: Sample[] = [];
  for (let i = o.from; i < o.from + o.count; i++) {
    const px = o.plusMinusOne ? images[i]!.map((v) => v * 2 - 1) : images[i]!;
    samples.push({ [inputName]: { type: 'float32', dims: o.dims ?? [1, 1, 28, 28], data: px } });
  }
  return { samples, labels: labels.slice(o.from, o.from + o.count) };
}

/** Top-1 accuracy in percent over the digits. */
export async function mnistAccuracy(model: string | Uint8Array | Model, o: DigitOptions): Promise<number> {
  const session = await openSession(model);
  try {
    const { samples, labels } = digitSamples(session.inputNames[0]!, o);
    let right = 0;
    for (let i = 0; i < samples.length; i++) {
      const out = Object.values(await session.run(samples[i]!))[0]!.data as Float32Array;
      let best = 0;
      for (let k = 1; k < out.length; k++) if (out[k]! > out[best]!) best = k;
      if (best === labels[i]) right++;
    }
    return (100 * right) / samples.length;
  } finally {
    await session.release();
  }
}

/** The model with `delta` taken off one class's logit bias (the last Gemm's): that class loses recall, the rest barely move. */
export function handicapClass(model: Model, cls: number, delta: number): Model {
  const m = cloneModel(model);
  const last = m.graph.nodes.filter((n) => n.opType === 'Gemm').at(-1)!;
  const bias = m.graph.findInitializer(last.inputs[2]!)!;
  const values = bias.toFloat32().slice();
  values[cls]! -= delta;
  replaceInitializer(m.graph, Tensor.fromFloat32(bias.name, bias.dims, values));
  return m;
}

/**
 * A folder holding the example MNIST model (`mnist-mlp.onnx`) and 300 digits it never saw in
 * training (`digits/`): what a compress run with a lock reads, in one place to copy or alter.
 */
export function mnistRunFolder(prefix: string): { dir: string; model: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const model = join(dir, 'mnist-mlp.onnx');
  copyFileSync(ensureMnistModel(), model);
  exportMnistDigits(join(dir, 'digits'), { offset: TRAIN_COUNT, count: 300 });
  return { dir, model };
}
