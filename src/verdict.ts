// Tolerances and the verdict: PASS when every tolerance holds, FAIL naming what broke.
// A target profile supplies default tolerances; the user's override them key by key, and each
// check says where its limit came from.
import { OnnxpressError } from './errors.js';
import type { EvalReport } from './measure/eval.js';
import type { Summary } from './measure/stats.js';
import type { ProfileViolation } from './targets/profile.js';
import type { ClipReport } from './measure/clip-rate.js';

export interface Tolerances {
  /** Top-1 accuracy may fall at most this many points (needs labels). */
  maxAccuracyDrop?: number;
  /** Every output's cosine similarity to the original at least this. */
  minCosine?: number;
  /** Classifier top-1 agreement with the original at least this share (0..1). */
  minTop1Agreement?: number;
  maxSizeBytes?: number;
  /** compressed size / original size at most this. */
  maxSizeRatio?: number;
  /** Median latency at most this many milliseconds, unless the 95% interval of the median reaches below it. */
  maxLatencyMs?: number;
  /** compressed / original median latency at most this, unless the 95% interval of the ratio reaches below it. */
  maxLatencyRatio?: number;
  /** No class may lose more than this many points of recall (per-class accuracy; needs labels). */
  maxClassDrop?: number;
  /** candidate macro F1 / original macro F1 at least this (needs labels). */
  minMacroF1Ratio?: number;
  /** No slice with enough samples to judge may lose more than this many points of top-1 (needs labels and slices). */
  maxSliceDrop?: number;
  /** No quantized activation may be saturated by QuantizeLinear on more than this share of its values (0-1; QDQ models). */
  maxClipRate?: number;
}

export const TOLERANCE_KEYS: (keyof Tolerances)[] = ['maxAccuracyDrop', 'minCosine', 'minTop1Agreement', 'maxSizeBytes', 'maxSizeRatio', 'maxLatencyMs', 'maxLatencyRatio', 'maxClassDrop', 'minMacroF1Ratio', 'maxSliceDrop', 'maxClipRate'];

/** Where a limit came from: the user (flags, config, options) or the target profile's defaults. */
export type LimitSource = 'user' | 'default';

/** One tolerance checked; 'profile' is the target's op/dtype list. */
export interface Check {
  metric: keyof Tolerances | 'profile';
  limit: number;
  value: number | null;
  pass: boolean;
  /** Why there is no value, or (latency) which candidates were slower. */
  note?: string;
  /** The 95% bootstrap interval of a latency value. */
  ci95?: [number, number];
  /** Absent: the user's limit. */
  source?: LimitSource;
}

export interface Verdict { pass: boolean; checks: Check[]; failed: Check[] }

/** The user's tolerances with the profile's defaults filled in where the user set none. */
export interface AppliedTolerances { tolerances: Tolerances; defaulted: (keyof Tolerances)[] }

/**
 * Fills each key the user left unset from `defaults`. A default that cannot be measured is
 * left out (an accuracy drop without labels): a default must never fail for want of data the
 * user was not asked for.
 */
export function applyDefaults(user: Tolerances, defaults: Tolerances, labelled: boolean): AppliedTolerances {
  const tolerances: Tolerances = { ...user };
  const defaulted: (keyof Tolerances)[] = [];
  for (const k of TOLERANCE_KEYS) {
    const v = defaults[k];
    if (v === undefined || user[k] !== undefined || (k === 'maxAccuracyDrop' && !labelled)) continue;
    tolerances[k] = v;
    defaulted.push(k);
  }
  return { tolerances, defaulted };
}

export interface Measured {
  eval: EvalReport;
  originalBytes: number;
  bytes: number;
  /** Medians with their intervals, and the ratio's interval from the per-sample timings. */
  latency?: { ms: Summary; ratio: number; ratioCi95: [number, number] };
  /** Breaks of the target profile's op/dtype list. */
  violations?: ProfileViolation[];
  /** Calibration-range drift on the evaluation data (QDQ candidates, when maxClipRate is asked). */
  clip?: ClipReport;
}

/** Checks every tolerance in `t`; `defaulted` names the keys that are the target's defaults. */
export function judge(t: Tolerances, m: Measured, defaulted: (keyof Tolerances)[] = []): Verdict {
  const source = (k: keyof Tolerances): LimitSource => (defaulted.includes(k) ? 'default' : 'user');
  const checks: Check[] = [];
  const add = (metric: keyof Tolerances, value: number | null, pass: (v: number, l: number) => boolean, note?: string, ci95?: [number, number]): Check | undefined => {
    const limit = t[metric];
    if (limit === undefined) return undefined;
    const check: Check = { metric, limit, value, pass: value !== null && pass(value, limit), note: value === null ? note : undefined, ci95, source: source(metric) };
    checks.push(check);
    return check;
  };
  /** Names what broke a failed check, at most five of them. */
  const explain = (check: Check | undefined, what: string, items: string[]) => {
    if (check && !check.pass && items.length) check.note = `${what}: ${items.slice(0, 5).join(', ')}${items.length > 5 ? ` (and ${items.length - 5} more)` : ''}`;
  };
  const drop = m.eval.accuracy ? m.eval.accuracy.reference - m.eval.accuracy.candidate : null;
  add('maxAccuracyDrop', drop, (v, l) => v <= l, 'needs labels (--labels or DATA/labels.json)');
  const cosines = Object.values(m.eval.outputs).map((o) => o.cosine);
  add('minCosine', cosines.length ? Math.min(...cosines) : null, (v, l) => v >= l);
  const agreements = Object.values(m.eval.outputs).map((o) => o.top1Agreement).filter((v): v is number => v !== undefined);
  add('minTop1Agreement', agreements.length ? Math.min(...agreements) : null, (v, l) => v >= l, 'no classifier output');
  add('maxSizeBytes', m.bytes, (v, l) => v <= l);
  add('maxSizeRatio', m.bytes / m.originalBytes, (v, l) => v <= l);
  // Timings are noisy: a latency limit fails only when the whole 95% interval lies above it,
  // so a candidate is called slower only when it surely is.
  const lat = m.latency;
  add('maxLatencyMs', lat?.ms.p50 ?? null, () => lat!.ms.ci95[0] <= t.maxLatencyMs!, 'latency not measured', lat?.ms.ci95);
  add('maxLatencyRatio', lat?.ratio ?? null, () => lat!.ratioCi95[0] <= t.maxLatencyRatio!, 'latency not measured', lat?.ratioCi95);
  const classes = m.eval.classes;
  const classCheck = add('maxClassDrop', classes ? classes.maxRecallDrop : null, (v, l) => v <= l, 'needs labels (--labels or DATA/labels.json)');
  explain(classCheck, 'recall lost, in points', (classes?.deltas ?? []).filter((d) => d.recallDrop > t.maxClassDrop!).map((d) => `class ${d.label} ${d.recallDrop.toFixed(1)}`));
  add('minMacroF1Ratio', classes ? classes.macroF1Ratio : null, (v, l) => v >= l, 'needs labels (--labels or DATA/labels.json)');
  const judged = m.eval.slices?.filter((s) => !s.tooSmall);
  const sliceCheck = add('maxSliceDrop', judged?.length ? Math.max(...judged.map((s) => s.drop)) : null, (v, l) => v <= l, m.eval.slices ? 'every slice is too small to judge' : 'needs labels and slices (--slices)');
  explain(sliceCheck, 'top-1 lost, in points', (judged ?? []).filter((s) => s.drop > t.maxSliceDrop!).map((s) => `${s.slice} ${s.drop.toFixed(1)}`));
  const clip = m.clip;
  const clipCheck = add('maxClipRate', clip?.tensors.length ? clip.tensors[0]!.rate : null, (v, l) => v <= l, 'no activation quantized with a fixed range');
  explain(clipCheck, 'saturated beyond the calibrated range', (clip?.tensors ?? []).filter((c) => c.rate > t.maxClipRate!).map((c) => `${c.tensor} ${(100 * c.rate).toFixed(2)}%`));
  if (m.violations?.length) checks.push({ metric: 'profile', limit: 0, value: m.violations.length, pass: false, note: m.violations.map((v) => v.detail).join('; '), source: 'default' });
  const failed = checks.filter((c) => !c.pass);
  return { pass: failed.length === 0, checks, failed };
}

/** Reads tolerances from an object (config file), rejecting unknown keys and non-numbers. */
export function parseTolerances(value: unknown, where: string): Tolerances {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new OnnxpressError('BAD_INPUT', `${where}: tolerances must be an object`);
  const out: Tolerances = {};
  for (const [k, v] of Object.entries(value)) {
    if (!TOLERANCE_KEYS.includes(k as keyof Tolerances)) throw new OnnxpressError('BAD_INPUT', `${where}: unknown tolerance '${k}' (${TOLERANCE_KEYS.join(', ')})`);
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new OnnxpressError('BAD_INPUT', `${where}: tolerance '${k}' must be a number`);
    out[k as keyof Tolerances] = v;
  }
  return out;
}

export function describeCheck(c: Check): string {
  if (c.metric === 'profile') return `profile: ${c.note}`;
  const ci = c.ci95 ? ` (95% CI ${formatValue(c.metric, c.ci95[0])}-${formatValue(c.metric, c.ci95[1])})` : '';
  const v = c.value === null ? `not measured (${c.note})` : `${formatValue(c.metric, c.value)}${ci}${c.note ? `; ${c.note}` : ''}`;
  return `${c.metric} ${c.metric.startsWith('min') ? '>=' : '<='} ${formatValue(c.metric, c.limit)}${c.source === 'default' ? ' [target default]' : ''}: ${v}`;
}

export function formatValue(metric: keyof Tolerances | 'profile', v: number): string {
  if (metric === 'maxSizeBytes') return `${Math.round(v)} bytes`;
  if (metric === 'maxLatencyMs') return `${v.toFixed(3)} ms`;
  if (metric === 'maxAccuracyDrop' || metric === 'maxClassDrop' || metric === 'maxSliceDrop') return `${v.toFixed(2)} points`;
  if (metric === 'maxClipRate') return `${(100 * v).toFixed(3)}%`;
  // Cosine tolerances live in the fifth decimal and beyond.
  if (metric === 'minCosine') return v.toFixed(6);
  if (metric === 'maxLatencyRatio') return `${v.toFixed(2)}x`;
  return v.toFixed(4);
}
