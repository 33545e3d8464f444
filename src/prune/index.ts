// `pruneModel`: magnitude (unstructured), N:M, or structured channel pruning, in place.
import type { Model } from '../ir/graph.js';
import { OnnxpressError } from '../errors.js';
import { sizeOf } from '../measure/bench.js';
import { optimizeModel } from '../optimize.js';
import { pruneChannels, type GroupReport } from './channels.js';
import { magnitudePrune, nmPrune } from './unstructured.js';
import { prunableLayers } from './weights.js';

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
  /** channels: fold BatchNorm and clean up first (default true; false when the caller already optimized). */
  optimizeFirst?: boolean;
}

export interface LayerReport { name: string; opType: string; sparsity?: number; channels?: number; kept?: number }

export interface PruneReport {
  method: string;
  layers: LayerReport[];
  groups?: GroupReport[];
  skipped: { name: string; reason: string }[];
  parameters: { before: number; after: number; nonZeroAfter: number };
  bytes: { before: SizeSet; after: SizeSet };
}

export interface SizeSet { raw: number; gzip: number; brotli: number }

function sizes(model: Model): SizeSet {
  const s = sizeOf(model);
  return { raw: s.bytes, gzip: s.gzipBytes, brotli: s.brotliBytes };
}

function parameterCounts(model: Model): { total: number; nonZero: number } {
  let total = 0, nonZero = 0;
  for (const t of model.tensors()) {
    total += t.elementCount;
    if (t.dataType === 1) for (const v of t.toFloat32()) if (v !== 0) nonZero++;
  }
  return { total, nonZero };
}

export async function pruneModel(model: Model, o: PruneOptions): Promise<PruneReport> {
  const before = { params: parameterCounts(model).total, bytes: sizes(model) };
  const g = model.graph;
  let layers: LayerReport[] = [];
  let groups: GroupReport[] | undefined;
  let skipped: { name: string; reason: string }[] = [];
  if (o.method === 'channels') {
    // BatchNorm and bias folding first: fewer tensors to keep aligned, and constants made visible.
    if (o.optimizeFirst !== false) await optimizeModel(model);
    const ratio = o.ratio ?? 0.3;
    if (!(ratio > 0 && ratio < 1)) throw new OnnxpressError('BAD_INPUT', `--ratio ${ratio}: expected a share between 0 and 1`);
    groups = pruneChannels(model, { ratio, norm: o.norm ?? 'l1', exclude: o.exclude });
    skipped = groups.filter((r) => r.skipped).map((r) => ({ name: r.producers.join(', '), reason: r.skipped! }));
    layers = groups.filter((r) => !r.skipped).flatMap((r) => r.producers.map((p) => ({ name: p, opType: 'group', channels: r.channels, kept: r.kept })));
  } else {
    const found = prunableLayers(model);
    skipped = found.skipped;
    let targets = found.layers.filter((l) => !o.exclude?.includes(l.name));
    if (o.keepEnds !== false && targets.length > 2) {
      skipped.push(...[targets[0]!, targets[targets.length - 1]!].map((l) => ({ name: l.name, reason: 'first/last layer kept dense (--prune-ends to include)' })));
      targets = targets.slice(1, -1);
    }
    let achieved: Map<string, number>;
    if (o.method === 'magnitude') {
      const s = o.sparsity ?? 0.5;
      if (!(s >= 0 && s < 1)) throw new OnnxpressError('BAD_INPUT', `--sparsity ${s}: expected a share between 0 and 1`);
      achieved = magnitudePrune(g, targets, o.layerSparsity ?? s, o.global ?? false);
    } else if (o.method === 'nm') {
      const n = o.n ?? 2, m = o.m ?? 4;
      if (!(n > 0 && n < m)) throw new OnnxpressError('BAD_INPUT', `--pattern ${n}:${m}: expected N:M with 0 < N < M`);
      achieved = nmPrune(g, targets, n, m);
      for (const l of targets) if (!achieved.has(l.name)) skipped.push({ name: l.name, reason: `${l.node.opType === 'Conv' ? 'input channels' : 'reduction size'} ${l.nmRun} not a multiple of ${m}` });
    } else throw new OnnxpressError('BAD_INPUT', `unknown method '${String(o.method)}' (magnitude, nm, channels)`);
    layers = targets.filter((l) => achieved.has(l.name)).map((l) => ({ name: l.name, opType: l.node.opType, sparsity: achieved.get(l.name) }));
  }
  const after = parameterCounts(model);
  return { method: o.method, layers, groups, skipped, parameters: { before: before.params, after: after.total, nonZeroAfter: after.nonZero }, bytes: { before: before.bytes, after: sizes(model) } };
}

export { layerSensitivity, chooseLevels, SENSITIVITY_LEVELS, type LayerSensitivity } from './sensitivity.js';
export { prunableLayers } from './weights.js';
