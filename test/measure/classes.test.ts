// Per-class and per-slice figures: the arithmetic on a hand-made case, then on real digits
// where one class's logit is handicapped, checked against a plain count.
import { describe, expect, it } from 'vitest';
import { classReport, compareClasses, compareSlices } from '../../src/measure/classes.js';
import { evalModels } from '../../src/measure/eval.js';
import { loadModel } from '../../src/onnx/load.js';
import type { Model } from '../../src/ir/graph.js';
import { openSession } from '../../src/runtime/ort.js';
import { ensureMnistModel, TRAIN_COUNT } from '../../models/train-mnist.js';
import { digitSamples, handicapClass } from '../helpers/mnist.js';

describe('class arithmetic', () => {
  it('recall, precision, F1 and macro F1 on a hand-made case', () => {
    // truth:     0 0 0 0 1 1 2 2
    // predicted: 0 0 1 0 1 2 2 2
    const r = classReport([0, 0, 0, 0, 1, 1, 2, 2], [0, 0, 1, 0, 1, 2, 2, 2]);
    const [c0, c1, c2] = r.classes;
    expect(c0).toMatchObject({ label: 0, support: 4, recall: 3 / 4, precision: 1 });
    expect(c1).toMatchObject({ label: 1, support: 2, recall: 1 / 2, precision: 1 / 2 });
    expect(c2).toMatchObject({ label: 2, support: 2, recall: 1, precision: 2 / 3 });
    expect(c0!.f1).toBeCloseTo((2 * 0.75) / 1.75, 12);
    expect(r.macroF1).toBeCloseTo((c0!.f1 + c1!.f1 + c2!.f1) / 3, 12);
    expect(r.accuracy).toBe(6 / 8);
  });

  it('a class only ever predicted has no support and no say in macro F1', () => {
    const r = classReport([0, 0], [0, 5]);
    expect(r.classes.find((c) => c.label === 5)).toMatchObject({ support: 0, precision: 0 });
    expect(r.macroF1).toBeCloseTo((2 * 0.5) / 1.5, 12);
  });

  it('the most hurt class comes first; slices under the minimum are flagged', () => {
    const labels = [0, 0, 1, 1, 1, 1];
    const cmp = compareClasses(labels, [0, 0, 1, 1, 1, 1], [0, 0, 1, 0, 0, 1]);
    expect(cmp.deltas[0]).toMatchObject({ label: 1, recallDrop: 50 });
    expect(cmp.maxRecallDrop).toBe(50);
    const slices = compareSlices(['a', 'a', 'a', 'b', 'b', 'b'], labels, [0, 0, 1, 1, 1, 1], [0, 0, 1, 0, 0, 1], 3);
    expect(slices[0]).toMatchObject({ slice: 'b', samples: 3, tooSmall: false });
    expect(slices[0]!.drop).toBeCloseTo(200 / 3, 9);
    expect(compareSlices(['a', 'a', 'a'], [0, 0, 0], [0, 0, 0], [0, 0, 0])[0]!.tooSmall).toBe(true);
  });
});


async function predictions(model: Model, samples: ReturnType<typeof digitSamples>['samples']): Promise<number[]> {
  const s = await openSession(model);
  try {
    const out: number[] = [];
    for (const x of samples) {
      const y = Object.values(await s.run(x))[0]!.data as Float32Array;
      out.push(y.indexOf(Math.max(...y)));
    }
    return out;
  } finally {
    await s.release();
  }
}

describe('per-class figures on real digits', () => {
  it('agree with a hand count; a handicapped class shows as the most hurt', async () => {
    const original = loadModel(ensureMnistModel());
    const { samples, labels } = digitSamples(original.graph.inputs[0]!.name, { from: TRAIN_COUNT, count: 600 });
    const hurt = handicapClass(original, 3, 4);
    const report = await evalModels(original, hurt, { samples, labels, quiet: true });
    const [ref, cand] = [await predictions(original, samples), await predictions(hurt, samples)];
    for (const cls of [0, 3, 7]) {
      const mine = labels.map((l, i) => i).filter((i) => labels[i] === cls);
      const recall = (p: number[]) => mine.filter((i) => p[i] === cls).length / mine.length;
      const fig = report.classes!.candidate.classes.find((c) => c.label === cls)!;
      expect(fig.support).toBe(mine.length);
      expect(fig.recall).toBe(recall(cand));
      expect(report.classes!.reference.classes.find((c) => c.label === cls)!.recall).toBe(recall(ref));
      const predictedAs = cand.filter((p) => p === cls).length;
      expect(fig.precision).toBe(predictedAs ? mine.filter((i) => cand[i] === cls).length / predictedAs : 0);
    }
    expect(report.classes!.deltas[0]!.label).toBe(3);
    // One class badly hurt, the overall figure much less so: what --max-class-drop exists for.
    expect(report.classes!.maxRecallDrop).toBeGreaterThan(3 * Math.abs(report.accuracy!.delta));
  });

  it('slices: per-slice top-1 and the too-small flag', async () => {
    const original = loadModel(ensureMnistModel());
    const { samples, labels } = digitSamples(original.graph.inputs[0]!.name, { from: TRAIN_COUNT, count: 200 });
    const hurt = handicapClass(original, 3, 4);
    // Slice 'threes' holds the digits 3, 'tiny' three other digits, 'rest' everything else.
    let tiny = 0;
    const slices = labels.map((l) => (l === 3 ? 'threes' : l === 5 && tiny++ < 3 ? 'tiny' : 'rest'));
    const report = await evalModels(original, hurt, { samples, labels, slices, quiet: true });
    const by = new Map(report.slices!.map((s) => [s.slice, s]));
    expect(report.slices![0]!.slice).toBe('threes');
    expect(by.get('tiny')).toMatchObject({ samples: 3, tooSmall: true });
    expect(by.get('threes')!.drop).toBeGreaterThan(by.get('rest')!.drop);
  });
});
