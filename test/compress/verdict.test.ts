// One rule per test: the verdict's arithmetic and the profile checker on graphs built in
// code. The real-model behaviour of both is in compress.test.ts.
import { describe, expect, it } from 'vitest';
import { Graph, Model, Node, attr, tensorType } from '../../src/ir/graph.js';
import { Tensor } from '../../src/ir/tensor.js';
import { DataType } from '../../src/ir/dtype.js';
import type { EvalReport } from '../../src/measure/eval.js';
import { checkProfile, findTarget } from '../../src/targets/index.js';
import { applyDefaults, judge, parseTolerances } from '../../src/verdict.js';
import { buildReport, pickBest, type CandidateInput, type CandidateReport, type ReportInput } from '../../src/report/build.js';
import { renderText } from '../../src/report/text.js';
import { sampleSummary } from '../../src/measure/stats.js';
import { targets } from '../../src/targets/index.js';

const evalReport = (cosine: number, accuracy?: [number, number]): EvalReport => ({
  samples: 10,
  outputs: { y: { maxAbs: 0, meanAbs: 0, rel: 0, cosine, snrDb: 40, top1Agreement: 0.95 } },
  accuracy: accuracy && { reference: accuracy[0], candidate: accuracy[1], delta: accuracy[1] - accuracy[0] },
});

/** 30 timings within 2% of `ms`. */
const around = (ms: number) => Array.from({ length: 30 }, (_, i) => ms * (1 + ((i % 5) - 2) * 0.01));

describe('judge', () => {
  it('passes when every tolerance holds and names each one that breaks', () => {
    const latency = { ms: sampleSummary(around(1.5)), ratio: 0.75, ratioCi95: [0.74, 0.76] as [number, number] };
    const m = { eval: evalReport(0.999, [95, 94.6]), originalBytes: 1000, bytes: 260, latency };
    expect(judge({ maxAccuracyDrop: 0.5, minCosine: 0.99, maxSizeRatio: 0.3, maxLatencyRatio: 0.8 }, m).pass).toBe(true);
    const v = judge({ maxAccuracyDrop: 0.3, minCosine: 0.9999, maxSizeBytes: 100, minTop1Agreement: 0.9, maxLatencyMs: 1 }, m);
    expect(v.pass).toBe(false);
    expect(v.failed.map((c) => c.metric)).toEqual(['maxAccuracyDrop', 'minCosine', 'maxSizeBytes', 'maxLatencyMs']);
    expect(v.failed[0]!.value).toBeCloseTo(0.4);
  });

  it('latency fails only when the whole 95% interval lies above the limit', () => {
    const m = (ratioCi95: [number, number]) => ({ eval: evalReport(1), originalBytes: 1, bytes: 1, latency: { ms: sampleSummary(around(1)), ratio: (ratioCi95[0] + ratioCi95[1]) / 2, ratioCi95 } });
    expect(judge({ maxLatencyRatio: 1 }, m([0.95, 1.2])).pass).toBe(true); // not surely slower
    expect(judge({ maxLatencyRatio: 1 }, m([1.02, 1.2])).failed[0]!.ci95).toEqual([1.02, 1.2]);
  });

  it('a profile violation is a failed check of its own', () => {
    const v = judge({}, { eval: evalReport(1), originalBytes: 1, bytes: 1, violations: [{ kind: 'op', detail: 'Einsum is not in the npu-int8 op list' }] });
    expect(v.failed.map((c) => [c.metric, c.note])).toEqual([['profile', 'Einsum is not in the npu-int8 op list']]);
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

  it('latency: a later recipe wins only when clearly faster', () => {
    const first = candidate('a', 100, 90, around(1.0));
    expect(pickBest(findTarget('cpu-x86'), [first, candidate('b', 100, 90, around(0.97))])!.c.recipe).toBe('a');
    expect(pickBest(findTarget('cpu-x86'), [first, candidate('b', 100, 90, around(0.5))])!.c.recipe).toBe('b');
  });

  it('download: the smallest brotli size, unless it is surely over 1.5x slower than the fastest', () => {
    const wasm = findTarget('wasm');
    expect(pickBest(wasm, [candidate('a', 100, 90, around(1)), candidate('b', 110, 80, around(1.2))])!.c.recipe).toBe('b');
    expect(pickBest(wasm, [candidate('a', 100, 90, around(1)), candidate('b', 110, 80, around(4))])!.c.recipe).toBe('a');
    expect(pickBest(wasm, [])).toBeUndefined();
  });

  it('size-first: a candidate whose few noisy runs only might be over 1.5x stays in the running; clean 2x, or a median alone over 1.5x, does not', () => {
    const wasm = findTarget('wasm');
    // A median of 1.6x, but two of five runs as fast as the fastest: not surely over the slack.
    const noisy = candidate('b', 110, 80, [0.95, 1.0, 1.6, 2.5, 3.0]);
    expect(pickBest(wasm, [candidate('a', 100, 90, around(1)), noisy])!.c.recipe).toBe('b');
    expect(pickBest(wasm, [candidate('a', 100, 90, around(1)), candidate('b', 110, 80, around(2))])!.c.recipe).toBe('a');
    // Only a median known (no samples): the median decides.
    const medianOnly = (recipe: string, brotliBytes: number, p50: number) => ({ c: { recipe, bytes: 100, brotliBytes, latencyMs: { p50 } } as unknown as CandidateReport });
    expect(pickBest(wasm, [medianOnly('a', 90, 1), medianOnly('b', 80, 1.6)])!.c.recipe).toBe('a');
    expect(pickBest(wasm, [medianOnly('a', 90, 1), medianOnly('b', 80, 1.4)])!.c.recipe).toBe('b');
  });
});

describe('default tolerances', () => {
  it('fill only the keys the user left unset; the accuracy default needs labels', () => {
    const defaults = { minCosine: 0.99, maxAccuracyDrop: 1, maxLatencyRatio: 1 };
    expect(applyDefaults({ minCosine: 0.9, maxSizeRatio: 0.3 }, defaults, true)).toEqual({ tolerances: { minCosine: 0.9, maxSizeRatio: 0.3, maxAccuracyDrop: 1, maxLatencyRatio: 1 }, defaulted: ['maxAccuracyDrop', 'maxLatencyRatio'] });
    expect(applyDefaults({}, defaults, false).defaulted).toEqual(['minCosine', 'maxLatencyRatio']);
  });

  it('every target has a quality floor and forbids growing the file; the CPU targets forbid being slower than the original, the others say why they cannot', () => {
    for (const t of targets) {
      expect(t.defaults.maxSizeRatio, t.name).toBe(1);
      expect(t.defaults.minCosine, t.name).toBeGreaterThanOrEqual(0.98);
      expect(t.defaults.maxAccuracyDrop, t.name).toBeLessThanOrEqual(1);
      if (['cpu-x86', 'cpu-arm64', 'wasm'].includes(t.name)) expect(t.defaults.maxLatencyRatio, t.name).toBe(1);
      else expect(t.latencyNotJudged, t.name).toMatch(/stand-in|no native/);
    }
  });
});

describe('buildReport: judging and choosing on synthetic timings', () => {
  const timing = (samplesMs: number[]) => ({ latencyMs: sampleSummary(samplesMs), samplesMs });
  const candidate = (recipe: string, samplesMs: number[], extra: Partial<CandidateInput> = {}): CandidateInput =>
    ({ recipe, size: { bytes: 300, gzipBytes: 280, brotliBytes: 250 }, timing: timing(samplesMs), eval: evalReport(0.9995), violations: [], ...extra });
  const input = (candidates: CandidateInput[], extra: Partial<ReportInput> = {}): ReportInput => ({
    profile: findTarget('cpu-x86'), model: 'm.onnx', tolerances: {},
    data: { calibrationSamples: 3, evalSamples: 7, generated: true, labelled: false },
    bench: { backend: 'node', threads: 2, runs: 30 },
    original: { bytes: 1000, gzipBytes: 900, brotliBytes: 800, ...timing(around(10)) },
    candidates, ...extra,
  });

  it('with no tolerances and generated data, the verdict lists the default checks it applied, and says the data was generated', () => {
    const { report } = buildReport(input([candidate('int8-static', around(6))]));
    expect(report.verdict.pass).toBe(true);
    expect(report.verdict.checks.map((c) => [c.metric, c.source])).toEqual([['minCosine', 'default'], ['maxSizeRatio', 'default'], ['maxLatencyRatio', 'default']]);
    expect(report.defaulted).toEqual(['minCosine', 'maxSizeRatio', 'maxLatencyRatio']);
    expect(report.warnings.join()).toMatch(/inputs were generated/);
    const text = renderText(report);
    expect(text).toMatch(/tolerances: minCosine >= 0\.990000 \(cpu-x86 default\), maxSizeRatio <= 1\.0000 \(cpu-x86 default\), maxLatencyRatio <= 1\.00x \(cpu-x86 default\)/);
    expect(text).toMatch(/warning: inputs were generated/);
    expect(text).toMatch(/int8-static \*.*0\.300.*0\.60x \(0\.\d\d-0\.\d\d\).*0\.999500.*pass/);
  });

  it('a candidate surely slower than the original is never chosen, even when it comes first', () => {
    const { report, written } = buildReport(input([candidate('int8-dynamic', around(140)), candidate('int8-static', around(9))]));
    expect(report.chosen).toBe('int8-static');
    expect(written).toBe(1);
    expect(report.candidates[0]!.verdict.failed.map((c) => c.metric)).toEqual(['maxLatencyRatio']);
    expect(report.candidates[0]!.latencyRatio!.ci95[0]).toBeGreaterThan(13);
  });

  it('when no candidate is as fast as the original, the verdict fails on latency naming every slower recipe and by how much', () => {
    const { report, written } = buildReport(input([candidate('int8-dynamic', around(140)), candidate('int8-static', around(13))]));
    expect(report.chosen).toBeNull();
    expect(report.verdict.pass).toBe(false);
    expect(report.verdict.failed.map((c) => c.metric)).toEqual(['maxLatencyRatio']);
    expect(report.verdict.failed[0]!.note).toMatch(/^slower than the original: int8-dynamic 14\.00x \(95% CI 1\d\.\d\d-1\d\.\d\d\), int8-static 1\.30x/);
    expect(written).toBe(1); // the least slow is written for inspection
    expect(renderText(report)).toMatch(/FAIL: maxLatencyRatio$/);
  });

  it('--max-latency-ratio lets a slower candidate through; a noisy tie with the original is not "slower"', () => {
    const allowed = buildReport(input([candidate('int8-static', around(13))], { tolerances: { maxLatencyRatio: 1.5 } })).report;
    expect(allowed.chosen).toBe('int8-static');
    expect(allowed.verdict.checks.find((c) => c.metric === 'maxLatencyRatio')!.source).toBe('user');
    // Spread of +-30%, 3% slower at the median: the interval straddles 1.
    const noisy = (ms: number) => Array.from({ length: 30 }, (_, i) => ms * (1 + (((i * 7) % 11) - 5) * 0.06));
    const tie = buildReport(input([candidate('int8-static', noisy(10.3))], { original: { bytes: 1000, gzipBytes: 900, brotliBytes: 800, ...timing(noisy(10)) } })).report;
    expect(tie.candidates[0]!.latencyRatio!.ci95[0]).toBeLessThan(1);
    expect(tie.chosen).toBe('int8-static');
  });

  it('the terminal names the recipes not built and why', () => {
    const { report } = buildReport(input([candidate('int8-static', around(6))], { notBuilt: [{ recipe: 'int8-dynamic', reason: 'quantization needs opset 11' }] }));
    expect(report.notBuilt).toHaveLength(1);
    expect(renderText(report)).toMatch(/^not built: int8-dynamic: quantization needs opset 11$/m);
  });

  it('profile violations fail the candidate in judging; a gate without a target applies no defaults', () => {
    const { report } = buildReport(input([candidate('a', around(5), { violations: [{ kind: 'dtype', detail: 'float16 tensors are not allowed on cpu-x86' }] })]));
    expect(report.chosen).toBeNull();
    expect(report.verdict.failed.map((c) => c.metric)).toEqual(['profile']);
    const gate = buildReport(input([candidate('b', around(50))], { profile: undefined, tolerances: { minCosine: 0.99 } })).report;
    expect(gate.verdict.checks.map((c) => c.metric)).toEqual(['minCosine']);
    expect(gate.chosen).toBe('b');
    expect(gate.target.name).toBe('none');
  });
});
