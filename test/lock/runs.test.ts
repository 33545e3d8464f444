// The lock on each kind of run: the accuracy fallback's float nodes, a pruned recipe, an
// output inside the data folder, a model with external data. The MNIST MLP models/ trains and
// digits from the mnist package: what a clone reaches.
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_FILE, sha256File, type Lock } from '../../src/lock.js';
import { ANY_LATENCY, runCli } from '../helpers/cli.js';
import { mnistRunFolder } from '../helpers/mnist.js';

describe('the lock records what each kind of run decided, and verify rebuilds it', () => {
  const { dir, model } = mnistRunFolder('onnxpress-lock-runs-');
  /** A copy of the model and digits, to write into without touching the shared ones. */
  const copyRun = (name: string) => {
    const copy = join(dir, '..', `${name}-${process.pid}-${Math.random().toString(36).slice(2)}`);
    cpSync(dir, copy, { recursive: true });
    return { copy };
  };

  it('the accuracy fallback: the lock keeps what it changed, and verify rebuilds with the same', () => {
    const fb = join(dir, 'fallback');
    const common = ['--target', 'cpu-x86', '--data', join(dir, 'digits'), '--samples', '150', '--runs', '5', ...ANY_LATENCY];
    // A floor a quarter of the way from the best plain recipe's cosine (measured here) to 1:
    // no plain recipe meets it, and a few layers back in float do.
    const plain = runCli(['compress', model, '-o', join(fb, 'plain.onnx'), ...common, '--no-fallback', '--no-lock', '--json']);
    const best = Math.max(...(JSON.parse(plain.stdout) as { candidates: { outputs: Record<string, { cosine: number }> }[] }).candidates.map((c) => Math.min(...Object.values(c.outputs).map((o) => o.cosine))));
    const r = runCli(['compress', model, '-o', join(fb, 'm.onnx'), ...common, '--min-cosine', String(best + (1 - best) / 4)]);
    expect(r.code, r.stderr).toBe(0);
    const lock = JSON.parse(readFileSync(join(fb, LOCK_FILE), 'utf8')) as Lock;
    expect(lock.chosen.keptInFloat.length + (lock.chosen.widened?.length ?? 0)).toBeGreaterThan(0);
    expect(lock.decisions.filter((d) => d.action === 'kept in float').map((d) => d.node)).toEqual(lock.chosen.keptInFloat);
    expect(lock.decisions.filter((d) => d.action === '16-bit activation').map((d) => d.node)).toEqual(lock.chosen.widened ?? []);
    // The int8-static recipe calibrates with method auto: the lock pins what it chose, so the
    // rebuild (with nodes in float, where auto might choose otherwise) uses the same.
    if (lock.chosen.recipe === 'int8-static') expect(['minmax', 'percentile', 'entropy']).toContain(lock.chosen.method);
    const v = runCli(['verify', join(fb, LOCK_FILE)]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toMatch(/reproduced byte for byte/);
  });

  it('a pruned recipe: the lock lists each layer pruned or not and why, and verify reproduces the bytes', () => {
    const arm = join(dir, 'arm64');
    // Only the recipe that prunes channels before int8 comes under 0.2 of the original's size.
    const r = runCli(['compress', model, '-o', join(arm, 'm.onnx'), '--target', 'cpu-arm64', '--data', join(dir, 'digits'), '--samples', '200', '--runs', '5', '--max-size-ratio', '0.2', ...ANY_LATENCY]);
    expect(r.code, r.stderr).toBe(0);
    const lock = JSON.parse(readFileSync(join(arm, LOCK_FILE), 'utf8')) as Lock;
    expect(lock.chosen.recipe).toMatch(/^channels/);
    expect(lock.steps[0]).toMatch(/^prune channels/);
    const pruned = lock.decisions.filter((d) => d.action === 'pruned');
    expect(pruned.length).toBeGreaterThan(0);
    for (const d of pruned) expect(d.reason).toMatch(/^kept \d+ of \d+ channels$/);
    // The last layer feeds the graph output: pruning its channels would change the output's shape.
    expect(lock.decisions).toContainEqual(expect.objectContaining({ node: 'fc3', action: 'not pruned' }));
    const v = runCli(['verify', join(arm, LOCK_FILE)]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toMatch(/reproduced byte for byte/);
  });

  it('an output written into the data folder: neither it nor the lock counts as data, and verify reproduces it', () => {
    const { copy } = copyRun('onnxpress-lock-inside');
    try {
      const digits = join(copy, 'digits');
      const args = ['compress', join(copy, 'mnist-mlp.onnx'), '-o', join(digits, 'm.onnx'), '--target', 'cpu-x86', '--data', digits, '--samples', '100', '--runs', '5', ...ANY_LATENCY];
      for (let run = 0; run < 2; run++) expect(runCli(args).code).toBe(0); // the second run finds the first's lock and output there
      const lock = JSON.parse(readFileSync(join(digits, LOCK_FILE), 'utf8')) as Lock;
      expect(lock.data.map((f) => f.path)).not.toContain('m.onnx');
      expect(lock.data.map((f) => f.path)).not.toContain(LOCK_FILE);
      const v = runCli(['verify', join(digits, LOCK_FILE), '--json']);
      expect(v.code, v.stderr).toBe(0);
      expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, inputs: [], bytes: [], verdict: { same: true } });
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it("a model with external data: the lock pins that file too, and verify says when it changed", () => {
    const ext = join(dir, 'external');
    expect(runCli(['convert', model, '-o', join(ext, 'mlp.onnx'), '--external-data', 'mlp.weights']).code).toBe(0);
    const r = runCli(['compress', join(ext, 'mlp.onnx'), '-o', join(ext, 'out', 'm.onnx'), '--target', 'cpu-x86', '--data', join(dir, 'digits'), '--samples', '100', '--runs', '5', ...ANY_LATENCY]);
    expect(r.code, r.stderr).toBe(0);
    const lockOf = join(ext, 'out', LOCK_FILE);
    const lock = JSON.parse(readFileSync(lockOf, 'utf8')) as Lock;
    expect(lock.input.externalData).toEqual([{ path: '../mlp.weights', sha256: sha256File(join(ext, 'mlp.weights')), bytes: readFileSync(join(ext, 'mlp.weights')).length }]);
    const weights = readFileSync(join(ext, 'mlp.weights'));
    weights.writeFloatLE(weights.readFloatLE(0) + 0.25, 0); // one weight
    writeFileSync(join(ext, 'mlp.weights'), weights);
    const v = runCli(['verify', lockOf]);
    expect(v.code, v.stderr).toBe(1);
    expect(v.stdout).toContain(`changed input: external data ../mlp.weights: expected ${lock.input.externalData[0]!.sha256}, found ${sha256File(join(ext, 'mlp.weights'))}`);
  });

});
