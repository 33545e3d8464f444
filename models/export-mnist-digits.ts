// Writes mnist digits as a data folder onnxpress reads: NNNNN.npy (float32 [1,28,28] by
// default) and labels.json (labels in file order).
//   npx tsx models/export-mnist-digits.ts OUT_DIR [--count 2000] [--offset 0] [--shape 1x28x28] [--pm1]
// --pm1 maps pixels to [-1, 1] (x*2-1), as ../shared mnist.onnx expects.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeNpy } from '../src/runtime/data/npy.js';
import { readMnistDigits } from './mnist-digits.js';

export interface ExportOptions { count?: number; offset?: number; shape?: number[]; plusMinusOne?: boolean }

export function exportMnistDigits(outDir: string, options: ExportOptions = {}): { count: number; dir: string } {
  const { images, labels } = readMnistDigits();
  const offset = options.offset ?? 0;
  const count = Math.min(options.count ?? 2000, images.length - offset);
  const shape = options.shape ?? [1, 28, 28];
  // Build beside the target and rename, so a half-written folder never looks finished.
  const temp = `${outDir}.tmp-${process.pid}`;
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(temp, { recursive: true });
  for (let i = 0; i < count; i++) {
    const px = images[offset + i]!;
    const data = options.plusMinusOne ? px.map((v) => v * 2 - 1) : px;
    writeFileSync(join(temp, `${String(i).padStart(5, '0')}.npy`), encodeNpy({ type: 'float32', dims: shape, data }));
  }
  writeFileSync(join(temp, 'labels.json'), JSON.stringify(labels.slice(offset, offset + count)));
  rmSync(outDir, { recursive: true, force: true });
  renameSync(temp, outDir);
  return { count, dir: outDir };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const flag = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
  const out = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1]!.startsWith('--') && args[i - 1] !== '--pm1'));
  if (!out) {
    console.error('usage: tsx models/export-mnist-digits.ts OUT_DIR [--count N] [--offset K] [--shape 1x28x28] [--pm1]');
    process.exit(2);
  }
  const r = exportMnistDigits(out, {
    count: flag('--count') ? Number(flag('--count')) : undefined,
    offset: flag('--offset') ? Number(flag('--offset')) : undefined,
    shape: flag('--shape')?.split('x').map(Number),
    plusMinusOne: args.includes('--pm1'),
  });
  console.log(`wrote ${r.count} digits to ${r.dir}`);
}
