// Trains the example model: a small MNIST classifier (784-128-64-10 MLP with ReLU) on the
// `mnist` package's digits, in plain TypeScript with a seeded initialisation and SGD, and
// writes it as standard ONNX (Flatten, Gemm, Relu; opset 17). Same seed, same bytes.
//   npx tsx models/train-mnist.ts [OUT=models/build/mnist-mlp.onnx]
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Graph, Model, Node, attr, tensorType } from '../src/ir/graph.js';
import { Tensor } from '../src/ir/tensor.js';
import { saveModel } from '../src/onnx/save.js';
import { seededRandom } from '../src/runtime/samples.js';
import { readMnistDigits } from './mnist-digits.js';

export const DEFAULT_MODEL_PATH = 'models/build/mnist-mlp.onnx';
/** Digits 0..7999 train the model; 8000.. are held out for calibration and evaluation. */
export const TRAIN_COUNT = 8000;
const LAYERS = [784, 128, 64, 10];

interface Layer { w: Float32Array; b: Float32Array; vw: Float32Array; vb: Float32Array; inSize: number; outSize: number }

export interface TrainOptions {
  epochs?: number;
  seed?: number;
  /** Train on the first this many digits (at most TRAIN_COUNT); fewer makes a quick test model. */
  trainCount?: number;
  log?: (s: string) => void;
}

export function trainMnist(options: TrainOptions = {}): { model: Model; heldOutAccuracy: number } {
  const { images, labels } = readMnistDigits();
  const rand = seededRandom(options.seed ?? 7);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const layers: Layer[] = [];
  for (let l = 0; l < LAYERS.length - 1; l++) {
    const [i, o] = [LAYERS[l]!, LAYERS[l + 1]!];
    const std = Math.sqrt(2 / i); // He initialisation for ReLU
    layers.push({ w: Float32Array.from({ length: i * o }, () => gauss() * std), b: new Float32Array(o), vw: new Float32Array(i * o), vb: new Float32Array(o), inSize: i, outSize: o });
  }
  const epochs = options.epochs ?? 4;
  const batch = 32;
  const order = Array.from({ length: Math.min(options.trainCount ?? TRAIN_COUNT, TRAIN_COUNT) }, (_, i) => i);
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [order[i], order[j]] = [order[j]!, order[i]!]; }
    const lr = 0.05 * (epoch < 2 ? 1 : 0.3);
    for (let start = 0; start < order.length; start += batch) {
      const gw = layers.map((L) => new Float32Array(L.w.length));
      const gb = layers.map((L) => new Float32Array(L.b.length));
      const idx = order.slice(start, start + batch);
      for (const k of idx) backprop(layers, images[k]!, labels[k]!, gw, gb);
      layers.forEach((L, l) => {
        for (let p = 0; p < L.w.length; p++) { L.vw[p] = 0.9 * L.vw[p]! - (lr * gw[l]![p]!) / idx.length; L.w[p]! += L.vw[p]!; }
        for (let p = 0; p < L.b.length; p++) { L.vb[p] = 0.9 * L.vb[p]! - (lr * gb[l]![p]!) / idx.length; L.b[p]! += L.vb[p]!; }
      });
    }
    options.log?.(`epoch ${epoch + 1}/${epochs}: held-out top-1 ${(100 * accuracy(layers, images, labels)).toFixed(2)}%`);
  }
  return { model: toOnnx(layers), heldOutAccuracy: accuracy(layers, images, labels) };
}

function forward(layers: Layer[], x: Float32Array): Float32Array[] {
  const acts = [x];
  layers.forEach((L, l) => {
    const input = acts[acts.length - 1]!;
    const out = new Float32Array(L.outSize);
    for (let o = 0; o < L.outSize; o++) {
      let s = L.b[o]!;
      const row = o * L.inSize;
      for (let i = 0; i < L.inSize; i++) s += L.w[row + i]! * input[i]!;
      out[o] = l < layers.length - 1 ? Math.max(0, s) : s;
    }
    acts.push(out);
  });
  return acts;
}

function backprop(layers: Layer[], x: Float32Array, label: number, gw: Float32Array[], gb: Float32Array[]): void {
  const acts = forward(layers, x);
  const logits = acts[acts.length - 1]!;
  const max = Math.max(...logits);
  const exps = logits.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  let delta = exps.map((e, i) => e / sum - (i === label ? 1 : 0));
  for (let l = layers.length - 1; l >= 0; l--) {
    const L = layers[l]!;
    const input = acts[l]!;
    const prev = new Float32Array(L.inSize);
    for (let o = 0; o < L.outSize; o++) {
      const d = delta[o]!;
      if (d === 0) continue;
      gb[l]![o]! += d;
      const row = o * L.inSize;
      for (let i = 0; i < L.inSize; i++) { gw[l]![row + i]! += d * input[i]!; prev[i]! += d * L.w[row + i]!; }
    }
    if (l > 0) for (let i = 0; i < L.inSize; i++) if (input[i]! <= 0) prev[i] = 0;
    delta = prev;
  }
}

function accuracy(layers: Layer[], images: Float32Array[], labels: number[]): number {
  let right = 0;
  for (let k = TRAIN_COUNT; k < images.length; k++) {
    const out = forward(layers, images[k]!).pop()!;
    if (out.indexOf(Math.max(...out)) === labels[k]) right++;
  }
  return right / (images.length - TRAIN_COUNT);
}

function toOnnx(layers: Layer[]): Model {
  const g = new Graph('mnist_mlp');
  g.inputs.push({ name: 'image', type: tensorType(1, ['batch', 1, 28, 28]) });
  g.nodes.push(new Node({ opType: 'Flatten', name: 'flatten', inputs: ['image'], outputs: ['flat'], attributes: [attr.int('axis', 1)] }));
  let prev = 'flat';
  layers.forEach((L, l) => {
    const last = l === layers.length - 1;
    g.initializers.set(`fc${l + 1}.weight`, Tensor.fromFloat32(`fc${l + 1}.weight`, [L.outSize, L.inSize], L.w));
    g.initializers.set(`fc${l + 1}.bias`, Tensor.fromFloat32(`fc${l + 1}.bias`, [L.outSize], L.b));
    const out = last ? 'logits' : `fc${l + 1}`;
    g.nodes.push(new Node({ opType: 'Gemm', name: `fc${l + 1}`, inputs: [prev, `fc${l + 1}.weight`, `fc${l + 1}.bias`], outputs: [out], attributes: [attr.int('transB', 1)] }));
    if (!last) {
      g.nodes.push(new Node({ opType: 'Relu', name: `relu${l + 1}`, inputs: [out], outputs: [`relu${l + 1}`] }));
      prev = `relu${l + 1}`;
    }
  });
  g.outputs.push({ name: 'logits', type: tensorType(1, ['batch', 10]) });
  const model = new Model(g);
  model.irVersion = 8;
  model.opsetImport = [{ domain: '', version: 17 }];
  model.producerName = 'onnxpress models/train-mnist.ts';
  model.docString = 'MNIST 784-128-64-10 MLP trained on the mnist npm package digits 0..7999; input pixels in [0,1].';
  return model;
}

/** Builds the example model unless it is already there. */
export function ensureMnistModel(path = DEFAULT_MODEL_PATH, log: (s: string) => void = () => {}): string {
  if (existsSync(path)) return path;
  mkdirSync(dirname(path), { recursive: true });
  const { model, heldOutAccuracy } = trainMnist({ log });
  saveModel(model, path);
  log(`wrote ${path} (held-out top-1 ${(100 * heldOutAccuracy).toFixed(2)}% on digits ${TRAIN_COUNT}..)`);
  return path;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2] ?? DEFAULT_MODEL_PATH;
  mkdirSync(dirname(out), { recursive: true });
  const { model, heldOutAccuracy } = trainMnist({ log: console.log });
  saveModel(model, out);
  console.log(`wrote ${out} (held-out top-1 ${(100 * heldOutAccuracy).toFixed(2)}%)`);
}
