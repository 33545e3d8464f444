// Calibration statistics for data-driven compression: which layers, in how many passes
// over the samples (so the statistics of one pass stay under a memory budget), and the
// per-layer sums (means, norms, X^T X) that pruning's reconstruction and, later, the
// quantizer's data-driven rounding read.
import type { Model, Node } from '../ir/graph.js';
import { Progress } from '../measure/progress.js';
import type { Sample } from '../runtime/samples.js';
import { checkSamples, streamActivations } from './capture.js';
import { forEachRow, rowLayout, type RowLayout } from './patches.js';
import { LayerStats } from './statistics.js';

export { LayerStats } from './statistics.js';
export { checkSamples, streamActivations } from './capture.js';
export { rowLayout, type RowLayout } from './patches.js';
export * as linalg from './linalg.js';

export interface StatsRequest {
  /** A Conv, Gemm or MatMul whose input 0 is multiplied by the constant weight of dims `weightDims`. */
  node: Node;
  weightDims: readonly number[];
  /** The order of the row elements in the statistics (default: as the weight stores them). */
  columnOrder?: Int32Array;
  /**
   * When X^T X of the whole row is over the budget, accept it in pieces of consecutive
   * columns (in `columnOrder`), each a multiple of this many: the diagonal blocks of X^T X,
   * delivered pass by pass. Without it such a layer gets means and norms only.
   */
  pieceMultiple?: number;
}

export interface CollectOptions {
  /** Bytes the statistics of one pass may hold; default three times the model's weights (at least 1 MB). */
  budgetBytes?: number;
  /** Rows (conv output positions) sampled per sample and layer; default 1024. */
  maxPositions?: number;
  /** Columns per piece of a layer whose X^T X is over the budget; default 256. */
  pieceColumns?: number;
  /** No progress bar. */
  quiet?: boolean;
}

export interface CollectReport {
  passes: number;
  samples: number;
  /** Largest statistics held in one pass, and the largest single sample's captured activations. */
  peakStatsBytes: number;
  peakActivationBytes: number;
  budgetBytes: number;
  /** Layers whose X^T X did not fit the budget whole: taken in diagonal blocks (pieces), or means and norms only. */
  overBudget: { layer: string; gramBytes: number; pieces?: number }[];
}

export const layerName = (node: Node): string => node.name || node.outputs[0]!;

function weightBytes(model: Model): number {
  let bytes = 0;
  for (const t of model.tensors()) bytes += t.elementCount * 4;
  return bytes;
}

interface Unit { request: StatsRequest; layout: RowLayout; columns?: Int32Array; gram: boolean; bytes: number }

/** Splits requests into units of statistics and packs them, in graph order, into passes under the budget. */
function plan(requests: StatsRequest[], budgetBytes: number, pieceColumns: number, overBudget: CollectReport['overBudget']): Unit[][] {
  const units: Unit[] = [];
  for (const request of requests) {
    const layout = rowLayout(request.node, request.weightDims);
    const full = LayerStats.bytes(layout.groups, layout.width, true);
    if (full <= budgetBytes) { units.push({ request, layout, columns: request.columnOrder, gram: true, bytes: full }); continue; }
    const order = request.columnOrder ?? Int32Array.from({ length: layout.width }, (_, j) => j);
    const multiple = request.pieceMultiple ?? 0;
    const size = multiple ? Math.max(multiple, Math.floor(Math.min(pieceColumns, layout.width) / multiple) * multiple) : 0;
    if (!multiple || layout.groups !== 1 || LayerStats.bytes(1, size, true) > budgetBytes) {
      overBudget.push({ layer: layerName(request.node), gramBytes: full });
      units.push({ request, layout, columns: request.columnOrder, gram: false, bytes: LayerStats.bytes(layout.groups, layout.width, false) });
      continue;
    }
    let pieces = 0;
    for (let a = 0; a < layout.width; a += size, pieces++) {
      const columns = order.slice(a, Math.min(layout.width, a + size));
      units.push({ request, layout, columns, gram: true, bytes: LayerStats.bytes(1, columns.length, true) });
    }
    overBudget.push({ layer: layerName(request.node), gramBytes: full, pieces });
  }
  const passes: Unit[][] = [[]];
  let used = 0;
  for (const u of units) {
    if (used + u.bytes > budgetBytes && passes[passes.length - 1]!.length) { passes.push([]); used = 0; }
    passes[passes.length - 1]!.push(u);
    used += u.bytes;
  }
  return passes;
}

/**
 * Streams the statistics: after each pass over the samples, `onPass` gets that pass's
 * statistics (whole layers, or pieces of one) and they are dropped, so memory stays
 * within the budget whatever the number of layers.
 */
export async function streamLayerStats(model: Model, requests: StatsRequest[], samples: Sample[], o: CollectOptions, onPass: (stats: LayerStats[]) => void | Promise<void>): Promise<CollectReport> {
  checkSamples(model, samples);
  const budgetBytes = o.budgetBytes ?? Math.max(1 << 20, 3 * weightBytes(model));
  const maxPositions = o.maxPositions ?? 1024;
  const overBudget: CollectReport['overBudget'] = [];
  const passes = plan(requests, budgetBytes, o.pieceColumns ?? 256, overBudget);
  const report: CollectReport = { passes: passes.length, samples: samples.length, peakStatsBytes: 0, peakActivationBytes: 0, budgetBytes, overBudget };
  const progress = new Progress('calibrating', passes.length * samples.length, o.quiet);
  let done = 0;
  for (const pass of passes) {
    const held = pass.map((u) => ({ ...u, stats: new LayerStats(layerName(u.request.node), u.layout, u.columns, u.gram) }));
    report.peakStatsBytes = Math.max(report.peakStatsBytes, pass.reduce((s, u) => s + u.bytes, 0));
    const tensors = [...new Set(held.map((u) => u.request.node.inputs[0]!))];
    await streamActivations(model, tensors, samples, (_i, values) => {
      let bytes = 0;
      for (const v of values.values()) bytes += (v.data as ArrayBufferView).byteLength;
      report.peakActivationBytes = Math.max(report.peakActivationBytes, bytes);
      for (const u of held) {
        const x = values.get(u.request.node.inputs[0]!);
        if (!x || x.type !== 'float32') continue;
        forEachRow(u.request.node, u.request.weightDims, x, maxPositions, (g, row) => u.stats.add(g, row));
      }
      progress.tick(++done);
    });
    for (const u of held) u.stats.finish();
    await onPass(held.map((u) => u.stats));
  }
  progress.done();
  return report;
}

/** All statistics at once, one per layer (requests must not ask for pieces). */
export async function collectLayerStats(model: Model, requests: StatsRequest[], samples: Sample[], o: CollectOptions = {}): Promise<{ stats: Map<string, LayerStats>; report: CollectReport }> {
  const stats = new Map<string, LayerStats>();
  const report = await streamLayerStats(model, requests.map((r) => ({ ...r, pieceMultiple: undefined })), samples, o, (pass) => { for (const s of pass) stats.set(s.layer, s); });
  return { stats, report };
}
