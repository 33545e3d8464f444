// The dominant-error rule of int8-static (dominant.ts): a quantization causing a large share of
// the output error on its own goes back to float, found by group testing, kept only when
// onnxruntime shows it helped. Built graphs for the mechanism and its guards; the example MNIST
// MLP for "nothing to find"; the PP-OCR detector (npm) on pages of MNIST digits (a clone has
// both) and on the rendered OCR images (../shared) for the case it was made for.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Model } from '../../src/ir/graph.js';
import { loadModel } from '../../src/onnx/load.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { serializeModel } from '../../src/onnx/save.js';
import { optimizeModel } from '../../src/optimize.js';
import { evalModels } from '../../src/measure/eval.js';
import { quantizeModel } from '../../src/quantize/index.js';
import { nodesAround, quantizationSensitivity } from '../../src/quantize/sensitivity.js';
import { qdqPairs } from '../../src/quantize/qdq-pairs.js';
import { openSession } from '../../src/runtime/ort.js';
import { seededRandom, type Sample } from '../../src/runtime/samples.js';
import { DataType, GraphBuilder, Node, Tensor, attr } from '../helpers/graph-builder.js';
import { digitSamples } from '../helpers/mnist.js';
import { runCli } from '../helpers/cli.js';
import { digitPage } from '../helpers/digit-pages.js';
import { ensureMnistModel, TRAIN_COUNT } from '../../models/train-mnist.js';
import { OCR_DATA_DIR, OCR_MODELS, ocrImages, textMapOverlap } from '../prune/ocr.js';

const WIDTH = 32;

/**
 * x -> (MatMul -> Relu) x `layers`. Layer `outlier` (1-based) makes channel 0 a thousand
 * times larger than the rest and the next layer does not read it (its row is zero): one
 * per-tensor activation range set by a channel nothing uses, so its uint8 steps wipe out the
 * others, as a dead outlier channel does in a trained network.
 */
function outlierChain(layers: number, outlier: number): Model {
  const rand = seededRandom(11);
  const b = new GraphBuilder('chain');
  let h = b.input('x', [1, WIDTH]);
  for (let layer = 1; layer <= layers; layer++) {
    const w = Array.from({ length: WIDTH * WIDTH }, () => (rand() * 2 - 1) / Math.sqrt(WIDTH) * 2);
    for (let r = 0; r < WIDTH; r++) {
      if (layer === outlier) w[r * WIDTH] = Math.abs(w[r * WIDTH]!) * 1000;
      if (layer === outlier + 1) w[r] = 0;
    }
    h = b.node('Relu', [b.node('MatMul', [h, b.weight(`w${layer}`, [WIDTH, WIDTH], w)])]);
  }
  b.output(h);
  return b.model(17);
}

function inputs(count: number, seed: number): Sample[] {
  const rand = seededRandom(seed);
  return Array.from({ length: count }, () => ({ x: { type: 'float32', dims: [1, WIDTH], data: Float32Array.from({ length: WIDTH }, () => rand()) } }));
}

const relError = async (float: Model, q: Model, samples: Sample[]) => Object.values((await evalModels(float, q, { samples, quiet: true })).outputs)[0]!.rel;

describe('dominant-error rule (built graphs)', () => {
  const calibration = inputs(16, 1), heldOut = inputs(8, 2);

  it('finds the one quantization that dominates, in fewer runs than there are quantizations, and sends its reader back to float', async () => {
    const float = outlierChain(12, 6);
    const [plain, ruled] = [cloneModel(float), cloneModel(float)];
    await quantizeModel(plain, { mode: 'int8-static', method: 'minmax', calibration, dominantShare: 0 });
    const r = await quantizeModel(ruled, { mode: 'int8-static', method: 'minmax', calibration });
    const d = r.dominant!;
    expect(d.returned.map((x) => [x.kind, x.name, x.nodes])).toEqual([['activation', 'relu6', ['matmul7']]]);
    expect(d.returned[0]!.share).toBeGreaterThanOrEqual(0.25);
    expect(d.outputErrorAfter!).toBeLessThan(d.outputError / 2);
    expect(r.leftInFloat.find((l) => l.node === 'matmul7')?.reason).toMatch(/relu6 alone caused (\d+% of the int8 output error|[\d.]+x the error of the whole int8 model): kept in float/);
    expect(r.quantized.MatMul).toBe(11);
    // The full ranking (one run per quantization) puts the same one first.
    const ranked = await quantizationSensitivity(plain, calibration.slice(0, 4), float);
    expect(ranked[0]!.name).toBe('relu6');
    expect(d.runs).toBeLessThan(ranked.length);
    // On inputs it was not measured on, far nearer float.
    const [before, after] = [await relError(float, plain, heldOut), await relError(float, ruled, heldOut)];
    expect(after, `${before} -> ${after}`).toBeLessThan(before / 2);
    // dominantShare 0 leaves every MatMul int8; the rule's own output is the same twice.
    const r0 = await quantizeModel(cloneModel(float), { mode: 'int8-static', method: 'minmax', calibration, dominantShare: 0 });
    expect(r0.dominant).toBeUndefined();
    expect(r0.quantized.MatMul).toBe(12);
    const again = cloneModel(float);
    await quantizeModel(again, { mode: 'int8-static', method: 'minmax', calibration });
    expect(serializeModel(again)).toEqual(serializeModel(ruled));
  });

  it('does not run with full-integer placement: an int8-only accelerator runs no float node', async () => {
    const r = await quantizeModel(outlierChain(12, 6), { mode: 'int8-static', method: 'minmax', calibration, placement: 'full-integer' });
    expect(r.dominant).toBeUndefined();
    expect(r.quantized.MatMul).toBe(12);
  });

  it('does not run inside a tolerance\'s search: minCosine returns its own nodes and says so', async () => {
    const float = outlierChain(12, 6);
    const q = cloneModel(float);
    const r = await quantizeModel(q, { mode: 'int8-static', method: 'minmax', calibration, minCosine: 0.999 });
    expect(r.dominant).toBeUndefined();
    expect(r.tolerance!.met).toBe(true);
    expect(r.tolerance!.returnedToFloat).toContain('matmul7');
  });

  it('undoes a pair an integer op writes: a residual Add in integer goes back to float with its reader', async () => {
    const b = new GraphBuilder('residual', 4);
    const x = b.input('x', [1, WIDTH]);
    const r1 = b.node('Relu', [b.node('MatMul', [x, b.weight('w1', [WIDTH, WIDTH])])]);
    const r2 = b.node('Relu', [b.node('MatMul', [r1, b.weight('w2', [WIDTH, WIDTH])])]);
    const sum = b.node('Add', [r1, r2]);
    b.output(b.node('MatMul', [sum, b.weight('w3', [WIDTH, WIDTH])]));
    const float = b.model(17);
    const plain = cloneModel(float);
    const r = await quantizeModel(plain, { mode: 'int8-static', method: 'minmax', calibration, dominantShare: 0 });
    expect(r.quantized.Add).toBe(1);
    expect(qdqPairs(plain.graph).map((p) => p.tensor)).toContain('add');
    const [unit] = nodesAround(float, plain, [{ kind: 'activation', name: 'add' }]);
    expect(new Set(unit)).toEqual(new Set(['matmul3', 'add']));
    const undone = cloneModel(float);
    await quantizeModel(undone, { mode: 'int8-static', method: 'minmax', calibration, dominantShare: 0, excludeNodes: unit });
    expect(qdqPairs(undone.graph).map((p) => p.tensor)).not.toContain('add');
  });

  it('with fallback 16-bit the dominant activation is widened instead, and every weight stays int8', async () => {
    const float = outlierChain(12, 6);
    const q = cloneModel(float);
    const r = await quantizeModel(q, { mode: 'int8-static', method: 'minmax', calibration, fallback: '16-bit' });
    expect(r.dominant!.returned.map((x) => x.name)).toEqual(['relu6']);
    expect(r.opset.to).toBe(21);
    expect(r.quantized.MatMul).toBe(12);
    const wide = q.graph.nodes.filter((n) => n.opType === 'QuantizeLinear' && q.graph.findInitializer(n.inputs[2] ?? '')?.dataType === 4 /* UINT16 */);
    expect(wide.length).toBe(1);
  });

  it('keeps a dominant quantization int8 when its nodes in float would hold much of the weights, and says so', async () => {
    const float = outlierChain(4, 2);
    const [plain, ruled] = [cloneModel(float), cloneModel(float)];
    await quantizeModel(plain, { mode: 'int8-static', method: 'minmax', calibration, dominantShare: 0 });
    const r = await quantizeModel(ruled, { mode: 'int8-static', method: 'minmax', calibration });
    expect(r.dominant!.returned).toEqual([]);
    expect(r.dominant!.kept.map((k) => k.name)).toContain('relu2');
    expect(r.dominant!.kept.find((k) => k.name === 'relu2')!.why).toMatch(/would hold 25% of the weights/);
    expect(serializeModel(ruled)).toEqual(serializeModel(plain));
  });

  it('counts float16 weights behind a Cast in that guard too', async () => {
    const float = outlierChain(4, 2);
    // Each weight stored as float16, read through a Cast to float (as fp16 exports keep them).
    for (const node of [...float.graph.nodes]) {
      if (node.opType !== 'MatMul') continue;
      const w = float.graph.findInitializer(node.inputs[1]!)!;
      const half = Tensor.fromFloat32As(`${w.name}_h`, DataType.FLOAT16, w.dims, w.toFloat32());
      float.graph.initializers.delete(w.name);
      float.graph.initializers.set(half.name, half);
      float.graph.nodes.unshift(new Node({ opType: 'Cast', inputs: [half.name], outputs: [w.name], attributes: [attr.int('to', DataType.FLOAT)] }));
    }
    const r = await quantizeModel(cloneModel(float), { mode: 'int8-static', method: 'minmax', calibration });
    expect(r.dominant!.returned).toEqual([]);
    expect(r.dominant!.kept.find((k) => k.name === 'relu2')?.why).toMatch(/would hold 25% of the weights/);
  });

  it('rejects a share outside [0, 1] naming the option, and the CLI names the flag in one line, exit 2', async () => {
    await expect(quantizeModel(outlierChain(2, 1), { mode: 'int8-static', calibration, dominantShare: 1.5 })).rejects.toThrow(/dominantShare 1.5/);
    const r = runCli(['quantize', ensureMnistModel(), '-o', '/tmp/never-written.onnx', '--mode', 'int8-dynamic', '--dominant-share', '2']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--dominant-share/);
    expect(existsSync('/tmp/never-written.onnx')).toBe(false);
  });
});

describe('dominant-error rule (example MNIST MLP, real digits)', () => {
  it('an int8 model already near float is left as it is: no search, the same bytes', async () => {
    const float = loadModel(ensureMnistModel());
    await optimizeModel(float);
    const calibration = digitSamples('image', { from: TRAIN_COUNT, count: 32 }).samples;
    const [plain, ruled] = [cloneModel(float), cloneModel(float)];
    await quantizeModel(plain, { mode: 'int8-static', method: 'minmax', calibration, dominantShare: 0 });
    const r = await quantizeModel(ruled, { mode: 'int8-static', method: 'minmax', calibration });
    expect(r.dominant!.outputError).toBeLessThan(5e-3);
    expect(r.dominant!.runs).toBe(0);
    expect(serializeModel(ruled)).toEqual(serializeModel(plain));
  });
});

describe('dominant-error rule (PP-OCR detector from npm, pages of MNIST digits)', () => {
  it('sends back the few quantizations that dominate and the held-out output comes nearer float', async () => {
    const float = loadModel(OCR_MODELS.det);
    await optimizeModel(float);
    const calibration = Array.from({ length: 8 }, (_, k) => digitPage(k)), heldOut = Array.from({ length: 6 }, (_, k) => digitPage(100 + k));
    const [plain, ruled] = [cloneModel(float), cloneModel(float)];
    await quantizeModel(plain, { mode: 'int8-static', method: 'entropy', calibration, dominantShare: 0 });
    const r = await quantizeModel(ruled, { mode: 'int8-static', method: 'entropy', calibration });
    const d = r.dominant!;
    expect(d.returned.length, JSON.stringify(d)).toBeGreaterThan(0);
    expect(d.outputErrorAfter!).toBeLessThanOrEqual(d.outputError * (1 - d.share / 2));
    const cosine = async (m: Model) => Object.values((await evalModels(float, m, { samples: heldOut, quiet: true })).outputs)[0]!.cosine;
    const [a, b] = [await cosine(plain), await cosine(ruled)];
    expect(b - a, `${a} -> ${b}`).toBeGreaterThan(0.01);
    // A few nodes, not a retreat to float: every other Conv stays int8.
    expect(d.returned.flatMap((x) => x.nodes).length).toBeLessThanOrEqual(8);
    expect(r.quantized.Conv).toBeGreaterThan(50);
  }, 240_000);
});

describe('dominant-error rule (PP-OCR detector, rendered OCR images)', () => {
  const present = existsSync(join(OCR_DATA_DIR, 'det'));
  if (!present) console.log(`skipped: ${OCR_DATA_DIR} not found (a user's clone has no ../shared)`);
  it.skipIf(!present)('default int8-static meets the issue\'s text-map bounds (cosine >= 0.99, IoU >= 0.95) on held-out images, which it misses without the rule', async () => {
    const float = loadModel(OCR_MODELS.det);
    await optimizeModel(float);
    const { samples } = ocrImages('det');
    const calibration = samples.slice(0, 16), heldOut = samples.slice(32, 48);
    const outputs = async (m: Model) => { const s = await openSession(m); try { const o = []; for (const x of heldOut) o.push(await s.run(x)); return o; } finally { await s.release(); } };
    const ref = await outputs(float);
    const score = async (m: Model) => {
      const got = await outputs(m);
      const e = await evalModels(float, m, { samples: heldOut, quiet: true });
      const { intersection, union } = textMapOverlap(ref, got);
      return { cosine: Object.values(e.outputs)[0]!.cosine, iou: intersection / union };
    };
    const [plain, ruled] = [cloneModel(float), cloneModel(float)];
    await quantizeModel(plain, { mode: 'int8-static', method: 'entropy', calibration, dominantShare: 0 });
    const r = await quantizeModel(ruled, { mode: 'int8-static', method: 'entropy', calibration });
    const [a, b] = [await score(plain), await score(ruled)];
    expect(r.dominant!.returned.length, JSON.stringify(r.dominant)).toBeGreaterThan(0);
    expect(b.cosine, JSON.stringify({ plain: a, ruled: b })).toBeGreaterThan(a.cosine);
    expect(a.cosine).toBeLessThan(0.99);
    expect(b.cosine).toBeGreaterThanOrEqual(0.99);
    expect(b.iou).toBeGreaterThanOrEqual(0.95);
    // Every other Conv stays int8: a handful of nodes back, not a retreat to float.
    expect(r.leftInFloat.filter((l) => /alone caused/.test(l.reason)).length).toBeLessThanOrEqual(8);
  }, 240_000);
});
