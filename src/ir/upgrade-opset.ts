// Raises a model's default-domain opset for callers that need a newer one (quantization
// needs 10 for QuantizeLinear, 13 for per-channel, 21 for int4 blocks). The conversion
// itself lives in src/convert/opset; this keeps the ok/reason shape those callers test.
import type { Model } from './graph.js';
import { describeRefusals, tryConvertOpset } from '../convert/opset/index.js';

export interface UpgradeResult { ok: boolean; from: number; to: number; rewritten: number; reason?: string }

/** Raises the model in place to `target` (a model already there or newer is left alone). */
export function upgradeOpset(model: Model, target: number): UpgradeResult {
  const from = model.opset('') ?? 1;
  if (from >= target) return { ok: true, from, to: from, rewritten: 0 };
  const r = tryConvertOpset(model, target);
  if (r.refusals.length) return { ok: false, from, to: from, rewritten: 0, reason: describeRefusals(r.refusals) };
  return { ok: true, from, to: target, rewritten: r.rewritten };
}
