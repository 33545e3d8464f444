import { loadModel } from './src/onnx/load.js';
import { cloneModel } from './src/onnx/clone.js';
import { optimizeModel } from './src/optimize.js';
import { quantizeModel } from './src/quantize/index.js';
import { loadSamples } from './src/runtime/samples.js';
import { openSession, runSamples } from './src/runtime/ort.js';
import { Accumulator } from './src/measure/eval.js';
const [file, dir, ...opts] = process.argv.slice(2);
const m = loadModel(file!); await optimizeModel(m);
if (process.env.LIST) console.log(m.graph.nodes.filter((n) => n.opType === process.env.LIST).map((n) => n.name).join(' '));
const s = await openSession(m); const specs = s.inputs; await s.release();
const { samples } = loadSamples(dir!, specs, { limit: 64 });
const ref = await runSamples(m, samples.slice(32), { optimization: 'all' });
for (const o of opts) {
  const q = cloneModel(m);
  const r = await quantizeModel(q, { mode: 'int8-static', calibration: samples.slice(0, 32), ...JSON.parse(o) });
  const got = await runSamples(q, samples.slice(32), { optimization: 'all' });
  const cos = Object.keys(ref[0]!).map((k) => { const a = new Accumulator(); ref.forEach((x, i) => a.add(x[k]!, got[i]![k]!)); const mm = a.metrics(); return `${k}:cos ${mm.cosine.toFixed(4)} maxAbs ${mm.maxAbs.toExponential(2)} refMax ${Math.max(...ref.map((x) => Math.max(...(x[k]!.data as Float32Array)))).toExponential(2)}`; });
  console.log(o, cos.join(' '), JSON.stringify(r.quantized), r.tolerance ? JSON.stringify(r.tolerance) : '');
}
