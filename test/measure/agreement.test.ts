// The runtimes a wasm model may ship on agree on the example model and its int8 candidate;
// the wasm target's latency comes from Chromium when there is one and from Node, with a
// warning, when there is not.
import { afterEach, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { quantizeModel } from '../../src/quantize/index.js';
import { runtimeAgreement, type PairAgreement } from '../../src/measure/agreement.js';
import { browserUnavailable } from '../../src/runtime/browser.js';
import { gateModels } from '../../src/gate.js';
import { compressModel } from '../../src/compress.js';
import { renderText } from '../../src/report/text.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { ensureMnistModel, TRAIN_COUNT } from '../../models/train-mnist.js';
import { digitSamples } from '../helpers/mnist.js';
import { runCli } from '../helpers/cli.js';

const unavailable = browserUnavailable();
if (unavailable) console.log(`skipped: agreement and timing in Chromium (${unavailable})`);

const file = ensureMnistModel();
const original = loadModel(file);
const { samples, labels } = digitSamples('image', { from: TRAIN_COUNT, count: 24 });

async function int8(): Promise<ReturnType<typeof loadModel>> {
  const m = cloneModel(original);
  await quantizeModel(m, { mode: 'int8-dynamic', perChannel: true });
  return m;
}

/** Float kernels differ by rounding only; int8 ones may round a requantized value differently. */
function expectAgree(pairs: PairAgreement[], minCosine: number) {
  expect(pairs.length).toBeGreaterThan(0);
  for (const p of pairs) {
    expect(Object.keys(p.outputs)).toEqual(['logits']);
    expect(p.outputs.logits!.cosine, p.between.join(' vs ')).toBeGreaterThan(minCosine);
  }
}

const saved = { ...process.env };
afterEach(() => {
  for (const k of ['ONNXPRESS_NO_BROWSER', 'CHROMIUM_PATH']) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
});

describe('without a browser', () => {
  it('names CHROMIUM_PATH when it points at a missing file, and ONNXPRESS_NO_BROWSER when set', () => {
    process.env.CHROMIUM_PATH = '/nonexistent/chromium';
    expect(browserUnavailable()).toMatch(/CHROMIUM_PATH \/nonexistent\/chromium does not exist/);
    delete process.env.CHROMIUM_PATH;
    process.env.ONNXPRESS_NO_BROWSER = '1';
    expect(browserUnavailable()).toMatch(/ONNXPRESS_NO_BROWSER/);
  });

  it('agreement skips the browser and compares node with wasm; the wasm gate falls back to Node with a warning', async () => {
    process.env.ONNXPRESS_NO_BROWSER = '1';
    const candidate = await int8();
    const r = await runtimeAgreement(original, candidate, samples.slice(0, 8), ['node', 'wasm', 'browser']);
    expect(r.backends).toEqual(['node', 'wasm']);
    expect(r.skipped.map((s) => s.backend)).toEqual(['browser']);
    expectAgree(r.reference, 0.99999);
    expect(r.reference[0]!.outputs.logits!.maxAbs).toBeLessThan(1e-3);
    expectAgree(r.candidate, 0.999);

    const report = await gateModels(original, 'mnist', candidate, 'int8', { target: 'wasm', tolerances: { maxLatencyRatio: 100 }, data: { samples, labels, generated: false }, benchRuns: 10 });
    expect(report.warnings.some((w) => /onnxruntime-web in Node, not in a browser \(ONNXPRESS_NO_BROWSER/.test(w))).toBe(true);
    expect(report.original.browser).toBeUndefined();
    expect(report.bench.backend).toBe('wasm');
    expect(renderText(report)).toContain('warning: latency measured in onnxruntime-web in Node');
  });

  it('compress --target wasm reports the runtimes\' agreement on the original and the written model, and the fallback warning', async () => {
    process.env.ONNXPRESS_NO_BROWSER = '1';
    const { report } = await compressModel(original, 'mnist', { target: 'wasm', tolerances: { maxLatencyRatio: 100 }, data: { samples, labels, generated: false }, benchRuns: 10, fallback: false });
    expect(report.warnings.some((w) => w.includes('not in a browser'))).toBe(true);
    expect(report.agreement!.backends).toEqual(['node', 'wasm']);
    expect(report.agreement!.skipped.map((s) => s.backend)).toEqual(['browser']);
    expectAgree(report.agreement!.reference, 0.99999);
    expectAgree(report.agreement!.candidate, 0.999);
    expect(renderText(report)).toMatch(/^runtimes node \/ wasm on the written model: max abs diff/m);
    expect(renderMarkdown(report)).toContain('- runtimes: browser skipped: ONNXPRESS_NO_BROWSER is set');
  });

  it('eval --backends: the browser is skipped with one warning line; an unknown backend exits 2', () => {
    process.env.ONNXPRESS_NO_BROWSER = '1';
    const r = runCli(['eval', file, file, '--backends', 'node,wasm,browser', '--samples', '4', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^warning: backend browser skipped: ONNXPRESS_NO_BROWSER is set$/m);
    const agreement = JSON.parse(r.stdout).agreement;
    expect(agreement.backends).toEqual(['node', 'wasm']);
    expect(agreement.reference[0].between).toEqual(['node', 'wasm']);
    const bad = runCli(['eval', file, file, '--backends', 'node,gpu']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain("--backends 'gpu'");
  });
});

describe.skipIf(unavailable)('in headless Chromium', () => {
  it('the three runtimes agree, and the wasm gate reports both builds cold and steady from the browser', async () => {
    const candidate = await int8();
    const r = await runtimeAgreement(original, candidate, samples.slice(0, 4), ['node', 'wasm', 'browser']);
    expect(r.backends).toEqual(['node', 'wasm', 'browser']);
    expect(r.reference.map((p) => p.between.join('-'))).toEqual(['node-wasm', 'node-browser', 'wasm-browser']);
    expectAgree(r.reference, 0.99999);
    expectAgree(r.candidate, 0.999);

    const report = await gateModels(original, 'mnist', candidate, 'int8', { target: 'wasm', tolerances: { maxLatencyRatio: 100 }, data: { samples, labels, generated: false }, benchRuns: 10 });
    expect(report.bench.browserBuild).toBe('wasm-only');
    expect(report.warnings.filter((w) => w.includes('not in a browser'))).toEqual([]);
    expect(report.original.browser!.map((f) => f.build)).toEqual(['default', 'wasm-only']);
    const c = report.candidates[0]!;
    expect(c.samplesMs).toHaveLength(10);
    for (const f of c.browser!) {
      expect(f.coldMs).toBeGreaterThan(f.createMs);
      expect(Number.isFinite(f.coldRatio) && f.coldRatio > 0).toBe(true);
      expect(Number.isFinite(f.steadyRatio) && f.steadyRatio > 0).toBe(true);
    }
    expect(report.agreement!.backends).toEqual(['node', 'wasm', 'browser']);
    expect(renderText(report)).toContain('in headless Chromium');
    expect(renderMarkdown(report)).toMatch(/\| int8 \| wasm-only \|/);
  });
});
