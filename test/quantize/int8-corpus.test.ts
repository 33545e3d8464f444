// The int8 modes over the ONNX backend suite. Most node tests feed their weights as inputs, so
// each model is also tried with every input but the first made a constant (its reference
// value): Gemm's transposes and scalings, Conv's pads, groups and dilations, MatMul's
// broadcasts, the recurrent ops' options. A model is either refused with a reason or comes
// out loading, running and agreeing with float.
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { OnnxpressError } from '../../src/errors.js';
import { quantizeModel, type QuantizeOptions } from '../../src/quantize/index.js';
import { readTestDataSets, toHostTensor } from '../../src/runtime/tensor-files.js';
import type { HostTensor } from '../../src/runtime/ort.js';
import type { Model } from '../../src/ir/graph.js';
import { backendSuite, requireSystemFile, TESTDATA_DIR, type CorpusModel } from '../helpers/corpus.js';
import { outputsCosine } from '../helpers/metrics.js';
import { tryRun } from '../helpers/run.js';

const RANDOM = /^(Bernoulli|RandomNormal|RandomNormalLike|RandomUniform|RandomUniformLike|Multinomial|Dropout)$/;

/** The model with its first reference input fed and, when `constants`, every other input an initializer. */
function withFeeds(c: CorpusModel, constants: boolean): { model: Model; feeds: Record<string, HostTensor> } | undefined {
  const model = loadModel(c.file);
  if (model.graph.nodes.some((n) => RANDOM.test(n.opType))) return undefined;
  let set;
  try { set = readTestDataSets(c.testDataDir!)[0]; } catch { return undefined; }
  const inputs = model.graph.inputs.filter((i) => !model.graph.initializers.has(i.name));
  if (!set || set.inputs.length !== inputs.length || (constants && inputs.length < 2)) return undefined;
  const feeds: Record<string, HostTensor> = {};
  try {
    inputs.forEach((spec, k) => {
      const t = set.inputs[k]!;
      if (k === 0 || !constants) feeds[spec.name] = toHostTensor(t);
      else { t.name = spec.name; model.graph.initializers.set(spec.name, t); }
    });
  } catch {
    return undefined; // sequences, optionals
  }
  if (constants) model.graph.inputs = model.graph.inputs.filter((i) => i.name === inputs[0]!.name || !model.graph.initializers.has(i.name));
  return { model, feeds };
}

describe('int8 on the backend suite', () => {
  const present = requireSystemFile(TESTDATA_DIR, 'libonnx-testdata');
  it.runIf(!!present)('every model is refused with a reason or quantizes into one that runs and agrees with float (cosine > 0.999, 0.99 for the integer-kernel modes)', async () => {
    const cases = (['node', 'pytorch-converted', 'pytorch-operator', 'simple'] as const).flatMap(backendSuite);
    const failures: string[] = [];
    const ran: Record<string, number> = {};
    for (const c of cases) {
      for (const constants of [false, true]) {
        const prepared = withFeeds(c, constants);
        if (!prepared) continue;
        const { model, feeds } = prepared;
        const ref = await tryRun(model, feeds);
        if (!ref || !Object.values(feeds).every((f) => f.type === 'float32')) continue;
        const modes: [string, QuantizeOptions][] = [
          ['int8-dynamic', { mode: 'int8-dynamic', opTypes: ['MatMul', 'Gemm', 'Conv'], recurrent: 'int8-weights' }],
          ['int8-static', { mode: 'int8-static', calibration: [feeds], recurrent: 'int8-weights' }],
          ['ort-lstm', { mode: 'int8-dynamic', recurrent: 'ort-lstm' }],
        ];
        for (const [label, options] of modes) {
          const m = cloneModel(model);
          try {
            await quantizeModel(m, options);
          } catch (err) {
            if (!(err instanceof OnnxpressError)) failures.push(`${c.id} ${label}: ${(err as Error).message}`);
            continue;
          }
          const got = await tryRun(m, feeds);
          if (!got) { failures.push(`${c.id} ${label}: does not load or run`); continue; }
          ran[label] = (ran[label] ?? 0) + 1;
          const cosine = outputsCosine(ref, got);
          // The integer kernels int8-dynamic and DynamicQuantizeLSTM run saturate on AVX2-only
          // x86 (u8 x s8 pairs), where this machine's VNNI does not: a looser floor for them.
          const floor = label === 'int8-static' ? 0.999 : 0.99;
          if (!(cosine > floor)) failures.push(`${c.id}${constants ? ' (inputs as constants)' : ''} ${label}: cosine ${cosine}`);
        }
      }
    }
    expect(failures).toEqual([]);
    // Measured: 23, 87 and 17 quantized; the worst cosine 0.99994 (a strided, padded Conv3d in int8-static).
    expect(ran['int8-dynamic']).toBeGreaterThan(15);
    expect(ran['int8-static']).toBeGreaterThan(60);
    expect(ran['ort-lstm']).toBeGreaterThan(10);
  }, 300_000);
});
