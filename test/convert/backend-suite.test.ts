import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { serializeModel } from '../../src/onnx/save.js';
import { tryConvertOpset } from '../../src/convert/opset/index.js';
import { modelProblems } from '../../src/ir/validate.js';
import { readTestDataSets, toHostTensor } from '../../src/runtime/tensor-files.js';
import type { HostTensor } from '../../src/runtime/ort.js';
import { TESTDATA_DIR, allBackendModels, type CorpusModel } from '../helpers/corpus.js';
import { tryRun } from '../helpers/run.js';
import { checkerAvailable, runChecker } from '../helpers/checker.js';
import { allcloseMismatch } from './allclose.js';

// Every backend-suite model below opset 13, raised to 21, computes what it computed
// before on each of its test data sets. Models onnxruntime could not run at their own
// opset (most opset-6 ones) are checked against the suite's reference outputs instead.
interface Case { model: CorpusModel; sets: { feeds: Record<string, HostTensor>; expected: Record<string, HostTensor> }[] }

/** Suite models below opset `below` with usable test data. */
function cases(below = 13): Case[] {
  const out: Case[] = [];
  for (const m of allBackendModels()) {
    const model = loadModel(m.file);
    const opset = model.opset('');
    if (opset === undefined || opset >= below) continue;
    const inputs = model.graph.inputs.filter((i) => !model.graph.initializers.has(i.name));
    try {
      const sets = readTestDataSets(m.testDataDir!).map((s) => ({
        feeds: Object.fromEntries(inputs.map((spec, k) => [spec.name, toHostTensor(s.inputs[k]!)])),
        expected: Object.fromEntries(model.graph.outputs.map((o, k) => [o.name, toHostTensor(s.outputs[k]!)])),
      }));
      if (sets.length && sets.every((s) => Object.keys(s.feeds).length === inputs.length)) out.push({ model: m, sets });
    } catch {
      // sequences, maps and optionals have no host tensor form here
    }
  }
  return out;
}

const hasSuite = existsSync(TESTDATA_DIR);
if (!hasSuite) console.log(`skipped: ${TESTDATA_DIR} not found (apt-get install libonnx-testdata)`);

interface SuiteResult { runnable: number; converted: number; newlyRunnable: number; refused: string[]; failures: string[] }

/** Raises every model below `below` to `target` and compares each test data set's outputs. */
async function raiseSuite(target: number, below = target): Promise<SuiteResult> {
  const result: SuiteResult = { runnable: 0, converted: 0, newlyRunnable: 0, refused: [], failures: [] };
  for (const c of cases(below)) {
    const model = loadModel(c.model.file);
    const before = [];
    for (const s of c.sets) before.push(await tryRun(c.model.file, s.feeds));
    const runs = before.every((b) => b !== undefined);
    const problemsBefore = modelProblems(model).length;
    const r = tryConvertOpset(model, target);
    if (runs) result.runnable++;
    if (r.refusals.length) {
      if (runs) result.refused.push(`${c.model.id}: ${r.refusals[0]!.node}: ${r.refusals[0]!.reason}`);
      expect(model.opset('')).toBe(r.from); // a refusal leaves the model as it was
      continue;
    }
    expect(model.opset('')).toBe(target);
    // Unique names, topological order, no dangling value: wherever the original had them.
    if (!problemsBefore) expect(modelProblems(model)).toEqual([]);
    const bytes = serializeModel(model);
    for (const [k, s] of c.sets.entries()) {
      const after = await tryRun(bytes, s.feeds);
      if (!runs && !after) break;
      if (!after) { result.failures.push(`${c.model.id}: converted model does not run`); break; }
      // Not runnable before: the suite's reference outputs are the judge.
      const mismatch = allcloseMismatch(runs ? before[k]! : s.expected, after);
      if (mismatch) { result.failures.push(`${c.model.id} (set ${k}): ${mismatch}`); break; }
      if (k === c.sets.length - 1) { if (runs) result.converted++; else result.newlyRunnable++; }
    }
  }
  return result;
}

describe.skipIf(!hasSuite)('opset conversion on the backend suite', () => {
  it('raises every model below 13 that onnxruntime runs to 21 with the same outputs, refusing at most 5%', async () => {
    const r = await raiseSuite(21, 13);
    console.log(`backend suite below opset 13: ${r.converted}/${r.runnable} runnable models raised to 21 unchanged, ${r.newlyRunnable} more now run and match the reference; refused ${r.refused.length}:\n  ${r.refused.join('\n  ')}`);
    expect(r.failures).toEqual([]);
    expect(r.runnable).toBeGreaterThan(250);
    expect(r.converted + r.refused.length).toBe(r.runnable);
    expect(r.converted / r.runnable).toBeGreaterThanOrEqual(0.95);
  });

  // Intermediate targets emit the forms of their own opset (Squeeze axes as an attribute
  // below 13, Resize-10 ...); 17 and 21 also carry the suite's models from opset 13 up
  // (DFT, GridSample, Split-18, the reductions at 18).
  for (const target of [10, 12, 17, 21]) {
    it(`raises every model below ${target} to ${target} with the same outputs`, async () => {
      const r = await raiseSuite(target);
      expect(r.failures).toEqual([]);
      expect(r.converted / r.runnable).toBeGreaterThanOrEqual(0.95);
    });
  }

  // onnx.checker (python3-onnx 1.12) knows opsets up to 17: the converted forms are valid ONNX.
  it.skipIf(!checkerAvailable())('models raised to 17 pass onnx.checker wherever the originals did', () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnxpress-opset17-'));
    const pairs: [string, string, string][] = [];
    for (const c of cases()) {
      const model = loadModel(c.model.file);
      if (tryConvertOpset(model, 17).refusals.length) continue;
      const out = join(dir, `${c.model.id.replace(/\//g, '__')}.onnx`);
      writeFileSync(out, serializeModel(model));
      pairs.push([c.model.id, c.model.file, out]);
    }
    const verdicts = runChecker(pairs.flatMap(([, a, b]) => [a, b]));
    const broken = pairs.filter(([, a, b]) => verdicts[a] === null && verdicts[b] !== null).map(([id, , b]) => `${id}: ${verdicts[b]}`);
    expect(broken).toEqual([]);
    expect(pairs.filter(([, a]) => verdicts[a] === null).length).toBeGreaterThan(250);
  });
});
