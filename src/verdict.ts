// Tolerances and the verdict: PASS when every tolerance holds, FAIL naming what broke.
import { OnnxpressError } from './errors.js';
import type { EvalReport } from './measure/eval.js';

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
  /** Median latency at most this many milliseconds. */
  maxLatencyMs?: number;
  /** compressed median latency / original median latency at most this. */
  maxLatencyRatio?: number;
}

export const TOLERANCE_KEYS: (keyof Tolerances)[] = ['maxAccuracyDrop', 'minCosine', 'minTop1Agreement', 'maxSizeBytes', 'maxSizeRatio', 'maxLatencyMs', 'maxLatencyRatio'];

/** One tolerance checked; 'profile' is the target's op/dtype list. */
export interface Check { metric: keyof Tolerances | 'profile'; limit: number; value: number | null; pass: boolean; note?: string }

export interface Verdict { pass: boolean; checks: Check[]; failed: Check[] }

export interface Measured {
  eval: EvalReport;
  originalBytes: number;
  bytes: number;
  originalLatencyMs?: number;
  latencyMs?: number;
}

export function judge(t: Tolerances, m: Measured): Verdict {
  const checks: Check[] = [];
  const add = (metric: keyof Tolerances, value: number | null, pass: (v: number, l: number) => boolean, note?: string) => {
    const limit = t[metric];
    if (limit === undefined) return;
    checks.push({ metric, limit, value, pass: value !== null && pass(value, limit), note: value === null ? note : undefined });
  };
  const drop = m.eval.accuracy ? m.eval.accuracy.reference - m.eval.accuracy.candidate : null;
  add('maxAccuracyDrop', drop, (v, l) => v <= l, 'needs labels (--labels or DATA/labels.json)');
  const cosines = Object.values(m.eval.outputs).map((o) => o.cosine);
  add('minCosine', cosines.length ? Math.min(...cosines) : null, (v, l) => v >= l);
  const agreements = Object.values(m.eval.outputs).map((o) => o.top1Agreement).filter((v): v is number => v !== undefined);
  add('minTop1Agreement', agreements.length ? Math.min(...agreements) : null, (v, l) => v >= l, 'no classifier output');
  add('maxSizeBytes', m.bytes, (v, l) => v <= l);
  add('maxSizeRatio', m.bytes / m.originalBytes, (v, l) => v <= l);
  add('maxLatencyMs', m.latencyMs ?? null, (v, l) => v <= l, 'latency not measured');
  add('maxLatencyRatio', m.latencyMs !== undefined && m.originalLatencyMs ? m.latencyMs / m.originalLatencyMs : null, (v, l) => v <= l, 'latency not measured');
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
  const v = c.value === null ? `not measured (${c.note})` : formatValue(c.metric, c.value);
  return `${c.metric} ${c.metric.startsWith('min') ? '>=' : '<='} ${formatValue(c.metric, c.limit)}: ${v}`;
}

export function formatValue(metric: keyof Tolerances | 'profile', v: number): string {
  if (metric === 'maxSizeBytes') return `${Math.round(v)} bytes`;
  if (metric === 'maxLatencyMs') return `${v.toFixed(3)} ms`;
  if (metric === 'maxAccuracyDrop') return `${v.toFixed(2)} points`;
  // Cosine tolerances live in the fifth decimal and beyond.
  if (metric === 'minCosine') return v.toFixed(6);
  return v.toFixed(4);
}
