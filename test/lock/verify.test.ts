// The demo's path, small: compress the MNIST MLP on a few hundred real digits, then `verify`
// its lock. Everything a clone reaches: the model models/ trains, digits from the mnist package.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_FILE, sha256File, type Lock } from '../../src/lock.js';
import { verifyLock } from '../../src/verify.js';
import { renderVerify } from '../../src/commands/verify.js';
import { ANY_LATENCY, runCli } from '../helpers/cli.js';
import { mnistRunFolder } from '../helpers/mnist.js';

describe('compress writes a lock; verify reproduces it', () => {
  // Model, data and output in one folder, so the whole run can be copied and altered.
  const { dir, model } = mnistRunFolder('onnxpress-lock-');
  const out = join(dir, 'out', 'mnist.cpu-x86.onnx');
  const lockFile = join(dir, 'out', LOCK_FILE);
  // 20 runs: the two int8 recipes run within about 10% of each other on this 40 us model, where
  // five figures per model flipped the pick about once in eight runs.
  const compress = () => runCli(['compress', model, '-o', out, '--target', 'cpu-x86', '--data', join(dir, 'digits'), '--samples', '300', '--runs', '20', '--max-size-ratio', '0.3', ...ANY_LATENCY]);
  const first = compress();
  const readLockJson = () => JSON.parse(readFileSync(lockFile, 'utf8')) as Lock;

  it('the lock pins inputs, options, versions, the recipe and the per-node decisions, paths relative to it', () => {
    expect(first.code, first.stderr).toBe(0);
    const lock = readLockJson();
    expect(lock.input.model).toEqual({ path: '../mnist-mlp.onnx', sha256: sha256File(model), bytes: readFileSync(model).length });
    expect(lock.output.model.path).toBe('mnist.cpu-x86.onnx');
    expect(lock.output.model.sha256).toBe(sha256File(out));
    // 300 digits and labels.json, each by hash.
    expect(lock.data).toHaveLength(301);
    expect(lock.data.map((f) => f.path)).toContain('../digits/labels.json');
    expect(lock.data.find((f) => f.path === '../digits/00007.npy')!.sha256).toBe(sha256File(join(dir, 'digits', '00007.npy')));
    expect(lock.options).toMatchObject({ target: 'cpu-x86', tolerances: { maxSizeRatio: 0.3, maxLatencyRatio: 1e6 }, benchRuns: 20, fallback: true, data: { dir: '../digits', samples: 300, seed: 1 } });
    expect(lock.tool).toMatchObject({ name: 'onnxpress', node: process.version });
    expect(lock.candidates.map((c) => c.recipe)).toContain(lock.chosen.recipe);
    expect(lock.verdict).toEqual({ pass: true, failed: [] });
    // The MLP's three Gemms are what int8 quantizes, whichever int8 recipe wins.
    expect(lock.decisions.filter((d) => d.action === 'quantized')).toHaveLength(3);
    expect(lock.steps.join()).toMatch(/quantize int8/);
    expect(readFileSync(lockFile, 'utf8')).not.toMatch(/"(time|date|created)/i);
  });

  it('a second run of the same command writes the same lock, byte for byte', () => {
    const before = readFileSync(lockFile, 'utf8');
    const again = compress();
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(lockFile, 'utf8')).toBe(before);
  });

  it('verify rebuilds the same bytes and the same verdict: exit 0', () => {
    const r = runCli(['verify', lockFile]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/output: reproduced byte for byte/);
    expect(r.stdout).toMatch(/verdict: same, PASS/);
    expect(r.stdout).not.toMatch(/changed input/);
  });

  it('verifyLock (library): typed result, nothing differs', async () => {
    const r = await verifyLock(lockFile);
    expect(r.inputs).toEqual([]);
    expect(r.bytes).toEqual([]);
    expect(r.verdict).toEqual({ expected: { pass: true, failed: [] }, found: { pass: true, failed: [] }, same: true });
    expect(r.ok).toBe(true);
  });

  it('a changed tool version is reported, not fatal', async () => {
    const older = join(dir, 'out', 'older-node.lock.json'); // beside the real one: same relative paths
    const locked = readLockJson();
    writeFileSync(older, JSON.stringify({ ...locked, tool: { ...locked.tool, node: 'v0.0.1', onnxruntime: '0.0.1' } }));
    const r = await verifyLock(older);
    expect(r.versions).toEqual([
      { what: 'onnxruntime version', expected: '0.0.1', found: locked.tool.onnxruntime },
      { what: 'node version', expected: 'v0.0.1', found: process.version },
    ]);
    expect(r.ok).toBe(true);
  });

  it('a lock whose output or verdict the rebuild does not match: both differences reported, not ok', async () => {
    const wrong = join(dir, 'out', 'wrong.lock.json');
    const locked = readLockJson();
    const otherSha = '0'.repeat(64);
    writeFileSync(wrong, JSON.stringify({ ...locked, output: { ...locked.output, model: { ...locked.output.model, sha256: otherSha } }, verdict: { pass: false, failed: ['maxSizeRatio'] } }));
    const r = await verifyLock(wrong);
    expect(r.bytes).toEqual([{ what: `output ${locked.output.model.path}`, expected: otherSha, found: locked.output.model.sha256 }]);
    expect(r.verdict).toMatchObject({ expected: { pass: false, failed: ['maxSizeRatio'] }, found: { pass: true, failed: [] }, same: false });
    expect(r.ok).toBe(false);
    const text = renderVerify(r);
    expect(text).toMatch(/output: NOT reproduced/);
    expect(text).toMatch(/verdict: CHANGED: locked FAIL \(maxSizeRatio\), now PASS/);
  });

  it('gate --lock takes original, candidate, data and tolerances from the lock', () => {
    const r = runCli(['gate', '--lock', lockFile, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.tolerances.maxSizeRatio).toBe(0.3);
    expect(report.data.calibrationSamples + report.data.evalSamples).toBe(300);
    expect(report.verdict.pass).toBe(true);
    expect(r.stderr).not.toMatch(/changed since the lock/);
    const both = runCli(['gate', model, out, '--lock', lockFile]);
    expect(both.code).toBe(2);
    expect(both.stderr.trim().split('\n')).toHaveLength(1);
  });

  /** A copy of the whole run (model, digits, output and lock), to alter without touching the original. */
  const copyRun = (name: string) => {
    const copy = join(dir, '..', `${name}-${process.pid}-${Math.random().toString(36).slice(2)}`);
    cpSync(dir, copy, { recursive: true });
    return { copy, lock: join(copy, 'out', LOCK_FILE) };
  };

  it('one changed data file: verify names it, expected vs found hash, exit 1', () => {
    const { copy, lock } = copyRun('onnxpress-lock-changed');
    try {
      const sample = join(copy, 'digits', '00250.npy');
      const bytes = readFileSync(sample);
      bytes.writeFloatLE(0.5, bytes.length - 4); // one pixel of one digit
      writeFileSync(sample, bytes);
      const r = runCli(['verify', lock]);
      expect(r.code, r.stderr).toBe(1);
      const locked = readLockJson().data.find((f) => f.path === '../digits/00250.npy')!.sha256;
      expect(r.stdout).toContain(`changed input: data file ../digits/00250.npy: expected ${locked}, found ${sha256File(sample)}`);
      expect(r.stdout.match(/changed input/g)).toHaveLength(1);
      expect(r.stdout).toMatch(/verify: DIFFERS/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('a lock from a newer onnxpress: exit 2, one line', () => {
    const newer = join(dir, 'newer.lock.json');
    // As this version lays it out, and as a newer one might (the version is read first).
    for (const lock of [{ ...readLockJson(), lockVersion: 99 }, { lockVersion: 99, inputs: [] }]) {
      writeFileSync(newer, JSON.stringify(lock));
      const r = runCli(['verify', newer]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/lock version 99 was written by a newer onnxpress/);
    }
  });

  it('a lock whose model file is missing: exit 2, one line naming it', () => {
    const { copy, lock } = copyRun('onnxpress-lock-missing');
    try {
      rmSync(join(copy, 'mnist-mlp.onnx'));
      const r = runCli(['verify', lock]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/model \.\.\/mnist-mlp\.onnx is missing/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('not a lock, or no file: exit 2, one line', () => {
    const notLock = join(dir, 'not-a-lock.json');
    writeFileSync(notLock, '{"hello": 1}');
    const noOptions = join(dir, 'no-options.lock.json');
    writeFileSync(noOptions, JSON.stringify({ ...readLockJson(), options: undefined }));
    for (const file of [notLock, noOptions, join(dir, 'absent.lock.json')]) {
      const r = runCli(['verify', file]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('--no-lock writes none', () => {
    const other = join(dir, 'nolock');
    mkdirSync(other);
    const r = runCli(['compress', model, '-o', join(other, 'm.onnx'), '--target', 'cpu-x86', '--data', join(dir, 'digits'), '--samples', '100', '--runs', '5', ...ANY_LATENCY, '--no-lock']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(other, 'm.onnx'))).toBe(true);
    expect(existsSync(join(other, LOCK_FILE))).toBe(false);
  });
});
