// One rule per test: the verdict's arithmetic and the profile checker on graphs built in
// code. The real-model behaviour of both is in compress.test.ts.
import { describe, expect, it } from 'vitest';
import { Graph, Model, Node, attr, tensorType } from '../../src/ir/graph.js';
import { Tensor } from '../../src/ir/tensor.js';
import { DataType } from '../../src/ir/dtype.js';
import type { EvalReport } from '../../src/measure/eval.js';
import { checkProfile, findTarget } from '../../src/targets/index.js';
import { judge, parseTolerances } from '../../src/verdict.js';
import { pickBest, type CandidateReport } from '../../src/compress.js';

const evalReport = (cosine: number, accuracy?: [number, number]): EvalReport => ({
  samples: 10,
  outputs: { y: { maxAbs: 0, meanAbs: 0, rel: 0, cosine, snrDb: 40, top1Agreement: 0.95 } },
  accuracy: accuracy && { reference: accuracy[0], candidate: accuracy[1], delta: accuracy[1] - accuracy[0] },
});

describe('judge', () => {
  it('passes when every tolerance holds and names each one that breaks', () => {
    const m = { eval: evalReport(0.999, [95, 94.6]), originalBytes: 1000, bytes: 260, originalLatencyMs: 2, latencyMs: 1.5 };
    expect(judge({ maxAccuracyDrop: 0.5, minCosine: 0.99, maxSizeRatio: 0.3, maxLatencyRatio: 0.8 }, m).pass).toBe(true);
    const v = judge({ maxAccuracyDrop: 0.3, minCosine: 0.9999, maxSizeBytes: 100, minTop1Agreement: 0.9, maxLatencyMs: 1 }, m);
    expect(v.pass).toBe(false);
    expect(v.failed.map((c) => c.metric)).toEqual(['maxAccuracyDrop', 'minCosine', 'maxSizeBytes', 'maxLatencyMs']);
    expect(v.failed[0]!.value).toBeCloseTo(0.4);
  });

  it('a tolerance that cannot be measured fails, saying why (no labels, no latency)', () => {
    const v = judge({ maxAccuracyDrop: 1, maxLatencyRatio: 2 }, { eval: evalReport(1), originalBytes: 1, bytes: 1 });
    expect(v.pass).toBe(false);
    expect(v.failed.map((c) => c.note)).toEqual(['needs labels (--labels or DATA/labels.json)', 'latency not measured']);
  });

  it('config tolerances reject unknown keys and non-numbers with a message naming the file', () => {
    expect(parseTolerances({ minCosine: 0.99 }, 'ci.json')).toEqual({ minCosine: 0.99 });
    expect(() => parseTolerances({ maxAcuracyDrop: 1 }, 'ci.json')).toThrow(/ci.json: unknown tolerance 'maxAcuracyDrop'/);
    expect(() => parseTolerances({ minCosine: '0.9' }, 'ci.json')).toThrow(/must be a number/);
  });
});

/** x -> op -> y with one float or float16 weight. */
function oneOp(opType: string, domain = '', weightType: number = DataType.FLOAT, viaDequantize = false): Model {
  const g = new Graph('g');
  g.inputs.push({ name: 'x', type: tensorType(DataType.FLOAT, [1, 4]) });
  const w = Tensor.fromFloat32('w', [4, 4], new Float32Array(16).fill(0.5));
  g.initializers.set('w', weightType === DataType.FLOAT ? w : Tensor.fromBytes('w', weightType, [4, 4], new Uint8Array(32)));
  let x = 'x';
  if (viaDequantize) {
    g.initializers.set('s', Tensor.fromFloat32('s', [], new Float32Array([0.1])));
    g.initializers.set('z', Tensor.fromBytes('z', DataType.UINT8, [], new Uint8Array([128])));
    g.nodes.push(new Node({ opType: 'QuantizeLinear', name: 'q', inputs: ['x', 's', 'z'], outputs: ['xq'] }));
    g.nodes.push(new Node({ opType: 'DequantizeLinear', name: 'dq', inputs: ['xq', 's', 'z'], outputs: ['xd'] }));
    x = 'xd';
  }
  g.nodes.push(new Node({ opType, domain, name: 'op', inputs: [x, 'w'], outputs: ['y'] }));
  g.outputs.push({ name: 'y', type: tensorType(DataType.FLOAT, [1, 4]) });
  const model = new Model(g);
  model.opsetImport = [{ domain: '', version: 17 }];
  return model;
}

describe('checkProfile', () => {
  it('accepts a plain float MatMul on cpu-x86 and rejects float16 weights there', () => {
    expect(checkProfile(oneOp('MatMul'), findTarget('cpu-x86'))).toEqual([]);
    expect(checkProfile(oneOp('MatMul', '', DataType.FLOAT16), findTarget('cpu-x86'))).toEqual([{ kind: 'dtype', detail: 'float16 tensors are not allowed on cpu-x86' }]);
  });

  it('rejects values computed in a dtype the profile lacks (a Cast to float16 on cpu-x86)', () => {
    const model = oneOp('MatMul');
    model.graph.nodes.push(new Node({ opType: 'Cast', name: 'half', inputs: ['y'], outputs: ['y16'], attributes: [attr.int('to', DataType.FLOAT16)] }));
    expect(checkProfile(model, findTarget('cpu-x86'))).toEqual([{ kind: 'dtype', detail: 'float16 values are computed, which cpu-x86 does not allow' }]);
    expect(checkProfile(model, findTarget('gpu-fp16'))).toEqual([]);
  });

  it('rejects ops outside the standard domain on every profile', () => {
    for (const t of ['cpu-x86', 'wasm', 'gpu-fp16']) expect(checkProfile(oneOp('MatMulNBits', 'com.microsoft'), findTarget(t)).map((v) => v.kind)).toContain('domain');
  });

  it('npu-int8: compute must be fed by DequantizeLinear, and only listed ops are allowed', () => {
    const npu = findTarget('npu-int8');
    expect(checkProfile(oneOp('MatMul'), npu).map((v) => v.kind)).toEqual(['float-compute']);
    expect(checkProfile(oneOp('MatMul', '', DataType.FLOAT, true), npu)).toEqual([]);
    expect(checkProfile(oneOp('Einsum', '', DataType.FLOAT, true), npu)).toEqual([{ kind: 'op', detail: 'Einsum is not in the npu-int8 op list' }]);
  });
});

describe('pickBest: which passing candidate a profile keeps', () => {
  const candidate = (recipe: string, bytes: number, brotliBytes: number, samplesMs: number[]) =>
    ({ c: { recipe, bytes, brotliBytes, samplesMs, latencyMs: { p50: samplesMs[Math.floor(samplesMs.length / 2)]! } } as unknown as CandidateReport });
  const around = (ms: number) => Array.from({ length: 30 }, (_, i) => ms * (1 + ((i % 5) - 2) * 0.01));

  it('latency: a later recipe wins only when clearly faster', () => {
    const first = candidate('a', 100, 90, around(1.0));
    expect(pickBest(findTarget('cpu-x86'), [first, candidate('b', 100, 90, around(0.97))])!.c.recipe).toBe('a');
    expect(pickBest(findTarget('cpu-x86'), [first, candidate('b', 100, 90, around(0.5))])!.c.recipe).toBe('b');
  });

  it('download: the smallest brotli size, unless it is over 1.5x slower than the fastest', () => {
    const wasm = findTarget('wasm');
    expect(pickBest(wasm, [candidate('a', 100, 90, around(1)), candidate('b', 110, 80, around(1.2))])!.c.recipe).toBe('b');
    expect(pickBest(wasm, [candidate('a', 100, 90, around(1)), candidate('b', 110, 80, around(4))])!.c.recipe).toBe('a');
    expect(pickBest(wasm, [])).toBeUndefined();
  });
});
