// The package as a user gets it (test/helpers/pack.ts): packed, installed without dev
// dependencies into a scratch project, and the CLI and the library used from there.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TESTDATA_DIR } from '../helpers/corpus.js';
import { packAndInstall, REPO, run, type Installed } from '../helpers/pack.js';
import { ensureMnistModel } from '../../models/train-mnist.js';

const MODEL = join(TESTDATA_DIR, 'pytorch-converted/test_Conv2d/model.onnx'); // 590 bytes: one Conv
const hasModel = existsSync(MODEL);
if (!hasModel) console.log(`skipped (inspect, wasm): ${MODEL} not found (install Debian's libonnx-testdata, see README)`);

let pkg: Installed;
let app: string;

beforeAll(() => {
  pkg = packAndInstall();
  app = pkg.app;
});

afterAll(() => pkg?.remove());

describe('npm pack + install --omit=dev', () => {
  it('ships compiled JavaScript, declarations, bin, schema and README, and no sources', () => {
    const listed = run('tar', ['-tzf', pkg.tarball], pkg.work).stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    expect(listed).toContain('dist/src/index.js');
    expect(listed).toContain('dist/src/index.d.ts');
    expect(listed).toContain('bin/onnxpress.js');
    expect(listed).toContain('schema/onnxpress.gate.schema.json');
    const unexpected = listed.filter((f) => !/^(dist\/.*\.(js|d\.ts)|bin\/[^/]+\.js|schema\/[^/]+\.json|README\.md|package\.json|LICENSE)$/.test(f));
    expect(unexpected).toEqual([]);
  });

  it('installs without tsx, typescript or onnxruntime-web', () => {
    for (const dev of ['tsx', 'typescript', 'vitest', 'onnxruntime-web']) expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
  });

  it('npx onnxpress --version prints the package version', () => {
    const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
    const r = run('npx', ['onnxpress', '--version'], app);
    expect(r.code, r.all).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it.skipIf(!hasModel)('npx onnxpress inspect reads a model', () => {
    const r = run('npx', ['onnxpress', 'inspect', MODEL, '--json'], app);
    expect(r.code, r.all).toBe(0);
    expect((JSON.parse(r.stdout) as { inputs: { name: string }[] }).inputs.length).toBe(1);
  });

  // compress needs a model int8 pays for: the Conv above reads 3 channels, which stays float (kernel-cost.ts).
  it('npx onnxpress compress builds, times and judges candidates, and writes a model that loads', () => {
    const r = run('npx', ['onnxpress', 'compress', resolve(ensureMnistModel()), '-o', 'small.onnx', '--target', 'cpu-x86', '--runs', '5', '--samples', '20', '--min-cosine', '0.99'], app);
    // 0 PASS or 1 FAIL are both a verdict; 2 and 3 would be errors.
    expect([0, 1], r.all).toContain(r.code);
    expect(r.stdout).toMatch(/^(PASS|FAIL)/m);
    const back = run('npx', ['onnxpress', 'inspect', 'small.onnx', '--json'], app);
    expect(back.code, back.all).toBe(0);
  });

  it.skipIf(!hasModel)('--backend wasm without onnxruntime-web installed: one line naming the package, exit 2', () => {
    const r = run('npx', ['onnxpress', 'bench', MODEL, '--backend', 'wasm', '--runs', '5'], app);
    expect(r.code, r.all).toBe(2);
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('onnxpress:'))).toEqual([expect.stringMatching(/onnxruntime-web.*npm install onnxruntime-web/)]);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('the library imports by package name, with declarations for its entry', () => {
    const r = run(process.execPath, ['--input-type=module', '-e', "const m = await import('onnxpress'); console.log(typeof m.compressModel, typeof m.loadModel)"], app);
    expect(r.code, r.all).toBe(0);
    expect(r.stdout.trim()).toBe('function function');
    const pkg = JSON.parse(readFileSync(join(app, 'node_modules/onnxpress/package.json'), 'utf8')) as { exports: { '.': { types: string } }; types: string };
    expect(pkg.exports['.'].types).toBe(`./${pkg.types}`);
    const dts = readFileSync(join(app, 'node_modules/onnxpress', pkg.types), 'utf8');
    expect(dts).toMatch(/compressModel/);
  });
});
