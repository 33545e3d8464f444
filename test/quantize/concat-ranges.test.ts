// A Concat in integer requantizes its inputs to one output scale: a detector head's box
// offsets beside its sigmoid scores would leave the scores a step or two. static-qdq keeps
// such a Concat float (measured: ddddocr's YOLOX-style head, objectness cosine 0.918 -> 0.997).
// Built graphs: the head shape with far-apart ranges, and the same with near ones.
import { describe, expect, it } from 'vitest';
import type { Model } from '../../src/ir/graph.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { quantizeModel } from '../../src/quantize/index.js';
import { openSession } from '../../src/runtime/ort.js';
import { seededRandom, type Sample } from '../../src/runtime/samples.js';
import { GraphBuilder } from '../helpers/graph-builder.js';

/** x -> Conv -> Relu -> h; Concat(Conv(h) * `boxScale` [8 channels], Sigmoid(Conv(h)) [2 channels]) -> Reshape. */
function head(boxScale: number): Model {
  const b = new GraphBuilder('head', 5);
  const x = b.input('x', [1, 4, 8, 8]);
  const pads = [1, 1, 1, 1];
  const h = b.node('Relu', [b.node('Conv', [x, b.weight('w0', [16, 4, 3, 3]), b.weight('b0', [16])], { pads })]);
  const w1 = b.weight('w1', [8, 16, 3, 3], undefined, [-boxScale, boxScale]);
  const box = b.node('Conv', [h, w1, b.weight('b1', [8])], { pads });
  const score = b.node('Sigmoid', [b.node('Conv', [h, b.weight('w2', [2, 16, 3, 3]), b.weight('b2', [2])], { pads })]);
  const joined = b.node('Concat', [box, score], { axis: 1 });
  b.output(b.node('Reshape', [joined, b.int64('shape', [1, 10, 64])]));
  return b.model(17);
}

function inputs(count: number, seed: number): Sample[] {
  const rand = seededRandom(seed);
  return Array.from({ length: count }, () => ({ x: { type: 'float32', dims: [1, 4, 8, 8], data: Float32Array.from({ length: 256 }, () => rand()) } }));
}

/** Largest absolute error of the score rows (8 and 9 of 10) against float. */
async function scoreError(float: Model, q: Model, samples: Sample[]): Promise<number> {
  const [a, b] = [await openSession(float), await openSession(q)];
  try {
    let worst = 0;
    for (const s of samples) {
      const [ra, rb] = [Object.values(await a.run(s))[0]!.data as Float32Array, Object.values(await b.run(s))[0]!.data as Float32Array];
      for (let k = 8 * 64; k < 10 * 64; k++) worst = Math.max(worst, Math.abs(ra[k]! - rb[k]!));
    }
    return worst;
  } finally {
    await a.release();
    await b.release();
  }
}

describe('Concat of far-apart ranges', () => {
  const calibration = inputs(8, 1), heldOut = inputs(4, 2);

  it('stays float, saying why; the scores keep their own scale while both convs and the sigmoid stay int8', async () => {
    const float = head(20);
    const q = cloneModel(float);
    const r = await quantizeModel(q, { mode: 'int8-static', method: 'minmax', calibration, dominantShare: 0 });
    const reason = r.leftInFloat.find((l) => l.opType === 'Concat')?.reason ?? '';
    expect(reason).toMatch(/inputs' ranges differ \d+x: one shared int8 scale would leave the narrowest \d+ of 256 steps/);
    expect(r.quantized.Concat).toBeUndefined();
    expect(r.quantized.Conv).toBe(3);
    expect(r.quantized.Sigmoid).toBe(1);
    expect(Number(/differ (\d+)x/.exec(reason)![1])).toBeGreaterThan(10);
    // What the shared scale would have cost: the same model with its Concat in integer, as
    // full-integer placement keeps every supported op (the scores' own error, from their
    // logits' 8 bits, is what remains in both).
    const shared = cloneModel(float);
    const rs = await quantizeModel(shared, { mode: 'int8-static', method: 'minmax', calibration, dominantShare: 0, placement: 'full-integer' });
    expect(rs.quantized.Concat).toBe(1);
    const [own, one] = [await scoreError(float, q, heldOut), await scoreError(float, shared, heldOut)];
    expect(one, `own scale ${own}, shared ${one}`).toBeGreaterThan(3 * own);
  });

  it('judges an input by the range its readers see: a scalar the pair absorbed scales it', async () => {
    // box * k beside the scores: k = 0.01 brings the boxes to the scores' range, k = 100 takes them far away.
    const scaled = (k: number) => {
      const b = new GraphBuilder('head', 5);
      const x = b.input('x', [1, 4, 8, 8]);
      const pads = [1, 1, 1, 1];
      const h = b.node('Relu', [b.node('Conv', [x, b.weight('w0', [16, 4, 3, 3]), b.weight('b0', [16])], { pads })]);
      const box = b.node('Mul', [b.node('Conv', [h, b.weight('w1', [8, 16, 3, 3]), b.weight('b1', [8])], { pads }), b.scalar('k', k)]);
      const score = b.node('Sigmoid', [b.node('Conv', [h, b.weight('w2', [2, 16, 3, 3]), b.weight('b2', [2])], { pads })]);
      b.output(b.node('Reshape', [b.node('Concat', [box, score], { axis: 1 }), b.int64('shape', [1, 10, 64])]));
      return b.model(17);
    };
    const near = await quantizeModel(scaled(0.02), { mode: 'int8-static', method: 'minmax', calibration, dominantShare: 0 });
    expect(near.quantized['Mul (absorbed)']).toBe(1);
    expect(near.quantized.Concat).toBe(1);
    const far = await quantizeModel(scaled(100), { mode: 'int8-static', method: 'minmax', calibration, dominantShare: 0 });
    expect(far.quantized.Concat).toBeUndefined();
    expect(far.leftInFloat.find((l) => l.opType === 'Concat')?.reason).toMatch(/ranges differ/);
  });

  it('plans again until no Concat is newly spread: one kept float can hand another a narrow input', async () => {
    // Concat(box, score) -> Gather(the scores) beside a mid-range conv in a second Concat: with
    // the first Concat float the Gather takes the scores' own range, far from the conv's.
    const b = new GraphBuilder('head2', 5);
    const x = b.input('x', [1, 4, 8, 8]);
    const pads = [1, 1, 1, 1];
    const h = b.node('Relu', [b.node('Conv', [x, b.weight('w0', [16, 4, 3, 3]), b.weight('b0', [16])], { pads })]);
    const box = b.node('Conv', [h, b.weight('w1', [8, 16, 3, 3], undefined, [-20, 20]), b.weight('b1', [8])], { pads });
    const score = b.node('Sigmoid', [b.node('Conv', [h, b.weight('w2', [2, 16, 3, 3]), b.weight('b2', [2])], { pads })]);
    const picked = b.node('Gather', [b.node('Concat', [box, score], { axis: 1 }), b.int64('idx', [8, 9])], { axis: 1 });
    const mid = b.node('Conv', [h, b.weight('w3', [2, 16, 3, 3], undefined, [-6, 6]), b.weight('b3', [2])], { pads });
    b.output(b.node('Reshape', [b.node('Concat', [picked, mid], { axis: 1 }), b.int64('shape', [1, 4, 64])]));
    const r = await quantizeModel(b.model(17), { mode: 'int8-static', method: 'minmax', calibration, dominantShare: 0 });
    expect(r.leftInFloat.filter((l) => /ranges differ/.test(l.reason)).map((l) => l.node).sort()).toEqual(['concat', 'concat2']);
    expect(r.quantized.Concat).toBeUndefined();
  });

  it('reads a large constant input (coordinate channels beside a feature map) without failing', async () => {
    // 8 x 160 x 160 constant values: too many to spread into Math.min's arguments.
    const b = new GraphBuilder('coords', 5);
    const x = b.input('x', [1, 4, 160, 160]);
    const h = b.node('Relu', [b.node('Conv', [x, b.weight('w0', [16, 4, 3, 3]), b.weight('b0', [16])], { pads: [1, 1, 1, 1] })]);
    b.output(b.node('Conv', [b.node('Concat', [h, b.weight('grid', [1, 8, 160, 160], undefined, [0, 1])], { axis: 1 }), b.weight('w1', [4, 24, 1, 1]), b.weight('b1', [4])]));
    const rand = seededRandom(3);
    const large = [{ x: { type: 'float32', dims: [1, 4, 160, 160], data: Float32Array.from({ length: 4 * 160 * 160 }, () => rand()) } } as Sample];
    const r = await quantizeModel(b.model(17), { mode: 'int8-static', method: 'minmax', calibration: large, dominantShare: 0 });
    expect(r.quantized.Conv).toBe(2);
  });

  it('a Concat whose inputs span similar ranges still runs in integer', async () => {
    const float = head(0.05);
    const q = cloneModel(float);
    const r = await quantizeModel(q, { mode: 'int8-static', method: 'minmax', calibration, dominantShare: 0 });
    expect(r.leftInFloat.filter((l) => l.opType === 'Concat')).toEqual([]);
    expect(r.quantized.Concat).toBe(1);
  });
});

describe('Split', () => {
  // x -> Conv (output channels 0-3 scaled by `k`) -> Split in halves -> a Conv on each half
  // (`unread`: a third output nothing reads).
  const split = (k: number, unread = false) => {
    const b = new GraphBuilder('split', 5);
    const x = b.input('x', [1, 4, 8, 8]);
    const pads = [1, 1, 1, 1];
    const rand = seededRandom(9);
    const sizes = unread ? [4, 4, 2] : [4, 4];
    const channels = unread ? 10 : 8;
    const w = Array.from({ length: channels * 4 * 9 }, (_, i) => (rand() * 2 - 1) * (i < 4 * 4 * 9 ? k : 1) / 6);
    const [lo, hi] = b.nodeOutputs('Split', [b.node('Conv', [x, b.weight('w0', [channels, 4, 3, 3], w), b.weight('b0', [channels])], { pads }), b.int64('sizes', sizes)], { axis: 1 }, { outputs: sizes.length });
    b.output(b.node('Conv', [lo!, b.weight('w1', [2, 4, 3, 3]), b.weight('b1', [2])], { pads }));
    b.output(b.node('Conv', [hi!, b.weight('w2', [2, 4, 3, 3]), b.weight('b2', [2])], { pads }));
    return b.model(17);
  };
  const calibration = inputs(8, 1);

  it("runs in int8 at its input's scale, near or far apart its halves' ranges: the input is quantized for its conv anyway", async () => {
    for (const k of [1, 40]) {
      const r = await quantizeModel(split(k), { mode: 'int8-static', method: 'minmax', calibration, dominantShare: 0 });
      expect(r.quantized.Split, `k ${k}`).toBe(1);
      expect(r.quantized.Conv).toBe(3);
    }
  });

  it('stays float when an output is unread (onnxruntime folds a Split only when every output has its pair)', async () => {
    const r = await quantizeModel(split(1, true), { mode: 'int8-static', method: 'minmax', calibration, dominantShare: 0 });
    expect(r.quantized.Split).toBeUndefined();
    expect(r.quantized.Conv).toBe(3);
    expect(r.leftInFloat.find((l) => l.opType === 'Split')?.reason).toMatch(/an output nothing reads/);
  });
});
