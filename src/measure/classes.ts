// Per-class and per-slice figures for a labelled evaluation. Compression hurts rare classes
// and small groups more than the average (Hooker et al. 2019), so one overall top-1 can hide
// a class that lost half its recall: these are the figures a production review reads.

export interface ClassFigures {
  label: number;
  /** Samples whose true label is this class. */
  support: number;
  /** Share of this class's samples predicted as it (per-class accuracy), 0..1. */
  recall: number;
  /** Share of the predictions of this class that were right, 0..1 (0 when never predicted). */
  precision: number;
  f1: number;
}

export interface ClassReport {
  classes: ClassFigures[];
  /** Unweighted mean of the per-class F1 over classes with support. */
  macroF1: number;
  accuracy: number;
}

/** Counts true/false positives per class. `labels[i]` is the truth, `predicted[i]` the model's argmax. */
export function classReport(labels: readonly number[], predicted: readonly number[]): ClassReport {
  if (labels.length !== predicted.length) throw new Error(`classReport: ${labels.length} labels for ${predicted.length} predictions`);
  const all = [...new Set([...labels, ...predicted])].sort((a, b) => a - b);
  const support = new Map<number, number>(), truePos = new Map<number, number>(), predictedAs = new Map<number, number>();
  const bump = (m: Map<number, number>, k: number) => m.set(k, (m.get(k) ?? 0) + 1);
  let right = 0;
  for (let i = 0; i < labels.length; i++) {
    bump(support, labels[i]!);
    bump(predictedAs, predicted[i]!);
    if (labels[i] === predicted[i]) { bump(truePos, labels[i]!); right++; }
  }
  const classes = all.map((label) => {
    const tp = truePos.get(label) ?? 0, n = support.get(label) ?? 0, p = predictedAs.get(label) ?? 0;
    const recall = n ? tp / n : 0, precision = p ? tp / p : 0;
    return { label, support: n, recall, precision, f1: recall + precision ? (2 * recall * precision) / (recall + precision) : 0 };
  });
  const supported = classes.filter((c) => c.support > 0);
  return {
    classes,
    macroF1: supported.length ? supported.reduce((s, c) => s + c.f1, 0) / supported.length : 0,
    accuracy: labels.length ? right / labels.length : 0,
  };
}

export interface ClassDelta { label: number; support: number; referenceRecall: number; candidateRecall: number; /** In points (0..100). */ recallDrop: number; f1Drop: number }

export interface ClassComparison {
  reference: ClassReport;
  candidate: ClassReport;
  /** Every class with support, the largest recall drop first. */
  deltas: ClassDelta[];
  /** The largest per-class recall drop, in points; 0 when no class lost recall. */
  maxRecallDrop: number;
  /** candidate macro F1 / reference macro F1 (1 when the reference has none). */
  macroF1Ratio: number;
}

export function compareClasses(labels: readonly number[], reference: readonly number[], candidate: readonly number[]): ClassComparison {
  const ref = classReport(labels, reference), cand = classReport(labels, candidate);
  const candBy = new Map(cand.classes.map((c) => [c.label, c]));
  const deltas = ref.classes.filter((c) => c.support > 0).map((r) => {
    const c = candBy.get(r.label)!;
    return { label: r.label, support: r.support, referenceRecall: r.recall, candidateRecall: c.recall, recallDrop: 100 * (r.recall - c.recall), f1Drop: r.f1 - c.f1 };
  }).sort((a, b) => b.recallDrop - a.recallDrop || a.label - b.label);
  return {
    reference: ref,
    candidate: cand,
    deltas,
    maxRecallDrop: Math.max(0, ...deltas.map((d) => d.recallDrop)),
    macroF1Ratio: ref.macroF1 > 0 ? cand.macroF1 / ref.macroF1 : 1,
  };
}

export interface SliceFigures {
  slice: string;
  samples: number;
  /** Top-1 accuracy in percent. */
  reference: number;
  candidate: number;
  /** reference - candidate, in points. */
  drop: number;
  /** Too few samples for a drop to mean anything: reported, never judged. */
  tooSmall: boolean;
}

/**
 * A slice needs this many samples before its drop is judged: with fewer, one sample moves the
 * accuracy by more than 5 points and a gate on it would fail on noise.
 */
export const MIN_SLICE_SAMPLES = 20;

export function compareSlices(slices: readonly string[], labels: readonly number[], reference: readonly number[], candidate: readonly number[], minSamples = MIN_SLICE_SAMPLES): SliceFigures[] {
  const groups = new Map<string, number[]>();
  slices.forEach((s, i) => { const g = groups.get(s); if (g) g.push(i); else groups.set(s, [i]); });
  return [...groups].map(([slice, idx]) => {
    const acc = (pred: readonly number[]) => (100 * idx.filter((i) => pred[i] === labels[i]).length) / idx.length;
    const r = acc(reference), c = acc(candidate);
    return { slice, samples: idx.length, reference: r, candidate: c, drop: r - c, tooSmall: idx.length < minSamples };
  }).sort((a, b) => b.drop - a.drop || a.slice.localeCompare(b.slice));
}
