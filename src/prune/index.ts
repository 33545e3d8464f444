// `pruneModel`: magnitude (unstructured), N:M, or structured channel pruning, in place.
// With calibration samples, scores look at the activations too and what remains is
// re-fitted to reproduce each layer's original output on them.
import type { Model } from '../ir/graph.js';
import { isWeightFloat } from '../ir/dtype.js';
import { OnnxpressError } from '../errors.js';
import { cloneModel } from '../onnx/clone.js';
import { optimizeModel } from '../optimize.js';
import type { Sample } from '../runtime/samples.js';
import { streamLayerStats, type CollectOptions, type CollectReport, type LayerStats } from '../calibrate/index.js';
import { planChannels, type GroupReport } from './channels.js';
import { ChannelPruner } from './channel-pruner.js';
import { pruneColumnsWithData, type ErrorSums, type LayerError } from './data-aware.js';
import { Quota, type Selection } from './reconstruct.js';
import { magnitudePrune, nmPrune } from './unstructured.js';
import { prunableLayers, type PrunableLayer } from './weights.js';

export interface PruneOptions {
  method: 'magnitude' | 'nm' | 'channels';
  /** magnitude: share of weights zeroed (per layer, or across layers with global). */
  sparsity?: number;
  /** magnitude: per-layer sparsity overriding `sparsity` (from a sensitivity analysis). */
  layerSparsity?: Map<string, number>;
  global?: boolean;
  /** magnitude/nm: keep the first and last weighted layers dense (default true). */
  keepEnds?: boolean;
  exclude?: string[];
  /** nm: keep N of every M along the reduction axis. */
  n?: number;
  m?: number;
  /** channels: share of channels removed per group, ranking norm. */
  ratio?: number;
  norm?: 'l1' | 'l2';
  /**
   * Calibration samples (model inputs by name). Scores become activation-aware (Wanda's
   * |w| * ||x_j||; for channels, the effect on the next layers' outputs) and, unless
   * `reconstruct` is false, the remaining weights are re-fitted on them.
   */
  calibration?: Sample[];
  /** With calibration: SparseGPT update (magnitude, nm) or least-squares re-fit of the next layers (channels), and bias compensation. Default true. */
  reconstruct?: boolean;
  /** With calibration: memory budget, rows per sample, progress bar. */
  statistics?: CollectOptions;
}

export interface LayerReport { name: string; opType: string; sparsity?: number; channels?: number; kept?: number }

export interface PruneReport {
  method: string;
  layers: LayerReport[];
  groups?: GroupReport[];
  skipped: { name: string; reason: string }[];
  parameters: { before: number; after: number; nonZeroAfter: number };
  /** With calibration: how the statistics were gathered, and each changed layer's output error before and after reconstruction. */
  calibration?: CollectReport;
  layerErrors?: LayerError[];
  notes: string[];
}

const NO_DATA_NOTE = 'no calibration samples: weights were ranked by magnitude alone and nothing was re-fitted; a few dozen real inputs (calibration) usually keep much more accuracy';


function parameterCounts(model: Model): { total: number; nonZero: number } {
  let total = 0, nonZero = 0;
  for (const t of model.tensors()) {
    total += t.elementCount;
    if (isWeightFloat(t.dataType)) for (const v of t.toFloat32()) if (v !== 0) nonZero++;
  }
  return { total, nonZero };
}

function checkOptions(o: PruneOptions): void {
  const bad = (msg: string) => new OnnxpressError('BAD_INPUT', msg);
  if (!['magnitude', 'nm', 'channels'].includes(o.method)) throw bad(`method '${String(o.method)}': expected magnitude, nm or channels`);
  if (o.ratio !== undefined && !(o.ratio > 0 && o.ratio < 1)) throw bad(`ratio ${o.ratio}: expected a share strictly between 0 and 1`);
  if (o.sparsity !== undefined && !(o.sparsity >= 0 && o.sparsity < 1)) throw bad(`sparsity ${o.sparsity}: expected a share from 0 up to (not including) 1`);
  const n = o.n ?? 2, m = o.m ?? 4;
  if (!(Number.isInteger(n) && Number.isInteger(m) && n > 0 && n < m)) throw bad(`n:m ${n}:${m}: expected whole numbers with 0 < n < m, e.g. 2:4`);
  if (o.calibration && o.global) throw bad('global: one threshold across layers is for magnitudes alone; with calibration, scores are compared within each layer');
  if (o.calibration && o.calibration.length === 0) throw bad('calibration: no samples');
}

export async function pruneModel(model: Model, o: PruneOptions): Promise<PruneReport> {
  checkOptions(o);
  // Weights held in Constant nodes (paddle2onnx exports) are weights all the same.
  await optimizeModel(model, { passes: ['constant-to-initializer'] });
  // Sizes are the caller's to measure (once, on what it writes): serializing here cost compress twice per candidate.
  const before = { params: parameterCounts(model).total };
  const g = model.graph;
  let layers: LayerReport[] = [];
  let groups: GroupReport[] | undefined;
  let skipped: { name: string; reason: string }[] = [];
  let calibration: CollectReport | undefined;
  let layerErrors: LayerError[] | undefined;
  const reconstruct = o.reconstruct !== false;
  if (o.method === 'channels') {
    const ratio = o.ratio ?? 0.3;
    const options = { ratio, norm: o.norm ?? 'l1' as const, exclude: o.exclude };
    const pruner = new ChannelPruner(g, planChannels(model, options), options);
    if (o.calibration) {
      // Groups are pruned as soon as their consumers' statistics are in, and those are dropped.
      // The re-fit holds a covariance copy, its factor and the inverse beside the statistics.
      const requests = pruner.consumerOrder().map((node) => ({ node, weightDims: g.findInitializer(node.inputs[1]!)!.dims, workMatrices: 4 }));
      const pending = new Map<string, LayerStats>();
      calibration = await streamLayerStats(model, requests, o.calibration, o.statistics ?? {}, (pass) => {
        for (const st of pass) pending.set(st.layer, st);
        pruner.pruneReady(pending, reconstruct);
      });
    }
    groups = pruner.finish();
    skipped = groups.filter((r) => r.skipped).map((r) => ({ name: r.producers.join(', '), reason: r.skipped! }));
    layers = groups.filter((r) => !r.skipped).flatMap((r) => r.producers.map((p) => ({ name: p, opType: 'group', channels: r.channels, kept: r.kept })));
    if (o.calibration) layerErrors = groups.flatMap((r) => r.errors ?? []);
  } else {
    const found = prunableLayers(model);
    skipped = found.skipped;
    let targets = found.layers.filter((l) => !o.exclude?.includes(l.name));
    skipped.push(...found.layers.filter((l) => o.exclude?.includes(l.name)).map((l) => ({ name: l.name, reason: 'excluded (exclude)' })));
    if (o.keepEnds !== false && targets.length > 2) {
      skipped.push(...[targets[0]!, targets[targets.length - 1]!].map((l) => ({ name: l.name, reason: 'first/last layer kept dense (--prune-ends to include)' })));
      targets = targets.slice(1, -1);
    }
    let achieved: Map<string, number>;
    const n = o.n ?? 2, m = o.m ?? 4;
    if (o.method === 'nm') {
      for (const l of targets) if (l.nmRun % m !== 0) skipped.push({ name: l.name, reason: `${l.node.opType === 'Conv' ? 'input channels' : 'reduction size'} ${l.nmRun} not a multiple of ${m}` });
      targets = targets.filter((l) => l.nmRun % m === 0);
    }
    if (o.calibration) {
      const result = await pruneWithData(model, targets, o, reconstruct);
      achieved = result.achieved;
      calibration = result.report;
      layerErrors = result.errors;
    } else if (o.method === 'magnitude') achieved = magnitudePrune(g, targets, o.layerSparsity ?? o.sparsity ?? 0.5, o.global ?? false);
    else achieved = nmPrune(g, targets, n, m);
    layers = targets.filter((l) => achieved.has(l.name)).map((l) => ({ name: l.name, opType: l.node.opType, sparsity: achieved.get(l.name) }));
  }
  const after = parameterCounts(model);
  return {
    method: o.method, layers, groups, skipped, parameters: { before: before.params, after: after.total, nonZeroAfter: after.nonZero },
    calibration, layerErrors, notes: o.calibration ? [] : [NO_DATA_NOTE],
  };
}

async function pruneWithData(model: Model, targets: PrunableLayer[], o: PruneOptions, reconstruct: boolean) {
  const m = o.m ?? 4;
  const selection = (l: PrunableLayer): Selection => (o.method === 'nm' ? { kind: 'nm', n: o.n ?? 2, m } : { kind: 'unstructured', sparsity: o.layerSparsity?.get(l.name) ?? o.sparsity ?? 0.5 });
  const live = targets.filter((l) => { const s = selection(l); return s.kind === 'nm' || s.sparsity > 0; });
  // Statistics run along N:M's order (input channels at each kernel position for a Conv), so a
  // layer too wide for X^T X whole is taken in pieces that never split an N:M group.
  // SparseGPT holds moments, the Hessian, its factor, inverse and the inverse's factor beside the statistics.
  const requests = live.map((l) => ({ node: l.node, weightDims: l.weight.dims, columnOrder: l.nmOrder, pieceMultiple: o.method === 'nm' ? m : 1, workMatrices: 5, gram: reconstruct }));
  const byName = new Map(live.map((l) => [l.name, l]));
  const sums = new Map<string, ErrorSums>();
  const quotas = new Map<string, Quota>();
  // Layer by layer: each layer's statistics come from the model with the layers before it pruned.
  // Each layer is fitted to reproduce the unpruned model's output from what the pruned layers before it now give it.
  const reference = reconstruct ? cloneModel(model) : undefined;
  const report = await streamLayerStats(model, requests, o.calibration!, { layerPerPass: reconstruct, reference, ...o.statistics }, (pass) => {
    for (const stats of pass) {
      const l = byName.get(stats.layer)!;
      const sel = selection(l);
      if (sel.kind === 'unstructured' && !quotas.has(l.name)) quotas.set(l.name, new Quota(sel.sparsity));
      if (!sums.has(l.name)) sums.set(l.name, { reference: 0, before: 0, after: 0, update: 'none' });
      pruneColumnsWithData(model.graph, l, stats, sel, reconstruct, quotas.get(l.name), sums.get(l.name)!);
    }
  });
  const achieved = new Map<string, number>();
  for (const l of targets) {
    const w = l.weight.toFloat32();
    let zeros = 0;
    for (const v of w) if (v === 0) zeros++;
    achieved.set(l.name, zeros / w.length);
  }
  const errors = live.filter((l) => sums.has(l.name)).map((l): LayerError => {
    const s = sums.get(l.name)!;
    const rel = (e: number) => (s.reference > 0 ? e / s.reference : 0);
    return { name: l.name, before: rel(s.before), after: rel(s.after), update: s.update };
  });
  return { achieved, report, errors };
}

export { layerSensitivity, chooseLevels, SENSITIVITY_LEVELS, type LayerSensitivity } from './sensitivity.js';
export { prunableLayers } from './weights.js';
export type { LayerError } from './data-aware.js';
