import { loadModel } from './src/onnx/load.js';
import { serializeModel } from './src/onnx/save.js';
import { pruneModel } from './src/prune/index.js';
import { runOnce } from './src/runtime/ort.js';
import { generateFeeds } from './test/helpers/feeds.js';
for (const f of ['../shared/models/cnn/cifar10-resnet20.onnx', '../shared/models/mnist/mnist-8.onnx', '../shared/models/cnn/ultraface-rfb-320.onnx', '../shared/models/mnist/mnist.onnx', 'models/build/mnist-mlp.onnx', '../shared/models/light/light_shufflenet.onnx']) {
  const m = loadModel(f);
  const r = await pruneModel(m, { method: 'channels', ratio: 0.3 });
  const feeds = generateFeeds(loadModel(f), 1);
  let ok = 'runs';
  try { const out = await runOnce(serializeModel(m), feeds); ok = 'runs ' + Object.values(out).map(t => t.dims.join('x')).join(','); } catch (e) { ok = (e as Error).message.slice(0, 150); }
  console.log(f.split('/').pop(), 'params', r.parameters.before, '->', r.parameters.after, (100 * (1 - r.parameters.after / r.parameters.before)).toFixed(1) + '%', 'groups', r.groups!.filter(g => !g.skipped).length, '/', r.groups!.length, ok);
  console.log('  skipped:', r.skipped.slice(0, 3).map(s => s.reason).join(' | '));
}
