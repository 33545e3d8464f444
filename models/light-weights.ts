// The ONNX project's "light" models (../shared/models/light) keep their architecture and
// replace every weight by a ConstantOfShape: a few kilobytes instead of megabytes, but a
// network of constant weights says nothing about how int8 placement or speed behaves. This
// gives each float ConstantOfShape with a constant shape a seeded random initializer instead:
// fan-in scaled for weights (rank >= 2), in [0.5, 1.5) for vectors (BatchNorm scales and
// variances must stay positive). Real-shaped, real-sized, deterministic.
import type { Model } from '../src/ir/graph.js';
import { removeNodes } from '../src/ir/mutate.js';
import { seededRandom } from '../src/runtime/samples.js';
import { Tensor } from '../src/ir/tensor.js';
import { DataType } from '../src/ir/dtype.js';

export function withSeededWeights(model: Model, seed = 3): number {
  const g = model.graph;
  const rand = seededRandom(seed);
  const producers = g.producers();
  const replaced = [];
  for (const n of g.nodes) {
    if (n.opType !== 'ConstantOfShape') continue;
    // Only float fills are weights; an integer or bool fill (a mask, an index) keeps its meaning.
    const fill = n.attributes.find((a) => a.name === 'value')?.t;
    if (fill && fill.dataType !== DataType.FLOAT) continue;
    const source = n.inputs[0] ?? '';
    const shape = g.initializers.get(source) ?? producers.get(source)?.attributes.find((a) => a.name === 'value')?.t;
    if (!shape) continue;
    const dims = shape.toNumbers();
    const count = dims.reduce((a, b) => a * b, 1);
    const fanIn = dims.slice(1).reduce((a, b) => a * b, 1) || 1;
    const bound = Math.sqrt(3 / fanIn);
    const values = Float32Array.from({ length: count }, () => (dims.length === 1 ? 0.5 + rand() : (rand() * 2 - 1) * bound));
    g.initializers.set(n.outputs[0]!, Tensor.fromFloat32(n.outputs[0]!, dims, values));
    replaced.push(n);
  }
  removeNodes(g, replaced);
  return replaced.length;
}
