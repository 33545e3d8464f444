// Calibration statistics for data-driven compression: which layers, in how many passes
// over the samples (so the statistics of one pass stay under a memory budget), and the
// per-layer sums (means, norms, X^T X) that pruning's reconstruction and, later, the
// quantizer's data-driven rounding read.
import { elemTypeOf, Graph, tensorType, type Model, type Node } from '../ir/graph.js';
import { inferShapes } from '../ir/shapes.js';
import { Progress } from '../measure/progress.js';
import type { Sample } from '../runtime/samples.js';
import { checkSamples, streamActivationsOf } from './capture.js';
import { forEachRowOf, rowLayout, type RowLayout } from './patches.js';
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
  /** Matrices of width x width the caller allocates while using one group's statistics (copies, factors, inverses); counted in the budget. */
  workMatrices?: number;
  /** False: means and norms only (what scoring without reconstruction needs). */
  gram?: boolean;
}

export interface CollectOptions {
  /**
   * Bytes one pass may hold: statistics, the caller's work on them, and one sample's captured
   * activations; default three times the model's weights (at least 1 MB), so with the model
   * itself the peak stays near four times its size.
   */
  budgetBytes?: number;
  /** Rows (conv output positions) sampled per sample and layer; default 1024. */
  maxPositions?: number;
  /** Columns per piece of a layer whose X^T X is over the budget; default 128. */
  pieceColumns?: number;
  /**
   * A layer fed (directly or not) by a layer of the current pass starts a new pass: a caller
   * that changes the pass's layers in onPass then gathers the next layers' statistics on the
   * changed model (sequential, as SparseGPT prunes). Layers side by side share a pass.
   */
  layerPerPass?: boolean;
  /**
   * The model as it was before the caller started changing it: its layer inputs are
   * captured beside the current ones, for E[x x_ref^T] (see LayerStats.cross).
   */
  reference?: Model;
  /** No progress bar. */
  quiet?: boolean;
}

export interface CollectReport {
  passes: number;
  samples: number;
  /** Largest statistics (plus the caller's planned work) held in one pass, and the largest single sample's captured activations. */
  peakStatsBytes: number;
  peakActivationBytes: number;
  /** Largest sum of the two within one pass: what the budget bounds. */
  peakPassBytes: number;
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

interface Unit { request: StatsRequest; layout: RowLayout; columns?: Int32Array; gram: boolean; bytes: number; workBytes: number }

/** Float32 bytes of each value when the inputs have the first sample's shapes (unknown: 0). */
function activationBytes(model: Model, sample: Sample): Map<string, number> {
  const g = model.graph;
  // A throwaway view for shape inference with the sample's dims; the model is not edited.
  const probe = new Graph();
  probe.nodes = g.nodes;
  probe.initializers = g.initializers;
  probe.inputs = g.inputs.map((i) => (sample[i.name] ? { ...i, type: tensorType(elemTypeOf(i) ?? 1, sample[i.name]!.dims) } : i));
  const out = new Map<string, number>();
  for (const [name, v] of inferShapes(probe)) {
    if (v.dims?.every((d): d is number => typeof d === 'number')) out.set(name, 4 * v.dims.reduce((a, b) => a * b, 1));
  }
  return out;
}

/**
 * For each requested node, the other requested nodes its inputs are computed from (through
 * any path, subgraph captures included): the layers whose change reaches it.
 */
function upstreamRequests(graph: Graph, requests: StatsRequest[]): Map<Node, Set<Node>> {
  const asked = new Set(requests.map((r) => r.node));
  const producers = graph.producers();
  const out = new Map<Node, Set<Node>>();
  for (const { node } of requests) {
    const found = new Set<Node>();
    const seen = new Set<Node>();
    const stack = [node];
    while (stack.length) {
      const n = stack.pop()!;
      const reads = [...n.inputs];
      for (const sub of n.subgraphs()) reads.push(...sub.capturedNames());
      for (const name of reads) {
        const p = name ? producers.get(name) : undefined;
        if (!p || seen.has(p)) continue;
        seen.add(p);
        if (asked.has(p)) found.add(p);
        stack.push(p);
      }
    }
    out.set(node, found);
  }
  return out;
}

/** Splits requests into units of statistics and packs them, in graph order, into passes under the budget. */
function plan(requests: StatsRequest[], budgetBytes: number, pieceColumns: number, tensorBytes: Map<string, number>, upstream: Map<Node, Set<Node>> | undefined, cross: boolean, overBudget: CollectReport['overBudget']): Unit[][] {
  const units: Unit[] = [];
  const workOf = (r: StatsRequest, width: number) => (r.workMatrices ?? 0) * width * width * 8;
  for (const request of requests) {
    const layout = rowLayout(request.node, request.weightDims);
    const full = LayerStats.bytes(layout.groups, layout.width, true, cross);
    if (request.gram === false) { units.push({ request, layout, columns: request.columnOrder, gram: false, bytes: LayerStats.bytes(layout.groups, layout.width, false), workBytes: 0 }); continue; }
    if (full + workOf(request, layout.width) <= budgetBytes) { units.push({ request, layout, columns: request.columnOrder, gram: true, bytes: full, workBytes: workOf(request, layout.width) }); continue; }
    const order = request.columnOrder ?? Int32Array.from({ length: layout.width }, (_, j) => j);
    const multiple = request.pieceMultiple ?? 0;
    const size = multiple ? Math.max(multiple, Math.floor(Math.min(pieceColumns, layout.width) / multiple) * multiple) : 0;
    if (!multiple || layout.groups !== 1 || LayerStats.bytes(1, size, true, cross) + workOf(request, size) > budgetBytes) {
      overBudget.push({ layer: layerName(request.node), gramBytes: full });
      units.push({ request, layout, columns: request.columnOrder, gram: false, bytes: LayerStats.bytes(layout.groups, layout.width, false), workBytes: 0 });
      continue;
    }
    let pieces = 0;
    for (let a = 0; a < layout.width; a += size, pieces++) {
      const columns = order.slice(a, Math.min(layout.width, a + size));
      units.push({ request, layout, columns, gram: true, bytes: LayerStats.bytes(1, columns.length, true, cross), workBytes: workOf(request, columns.length) });
    }
    overBudget.push({ layer: layerName(request.node), gramBytes: full, pieces });
  }
  // A pass holds its statistics and captured inputs together; the work on them comes one
  // layer at a time after the pass, so only the largest counts.
  const passes: Unit[][] = [[]];
  let used = 0, work = 0;
  let captured = new Set<string>();
  for (const u of units) {
    const input = u.request.node.inputs[0]!;
    const add = () => u.bytes + (captured.has(input) ? 0 : (tensorBytes.get(input) ?? 0) * (cross ? 2 : 1));
    const last = passes[passes.length - 1]!;
    // Sequential: a layer fed by one the pass will change waits for the next pass; one beside
    // them (same input, another branch) gets the same statistics now as it would then.
    const fedByPass = upstream !== undefined && last.some((v) => upstream.get(u.request.node)!.has(v.request.node));
    if ((fedByPass || used + add() + Math.max(work, u.workBytes) > budgetBytes) && last.length) { passes.push([]); used = 0; work = 0; captured = new Set(); }
    passes[passes.length - 1]!.push(u);
    used += add();
    work = Math.max(work, u.workBytes);
    captured.add(input);
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
  const passes = plan(requests, budgetBytes, o.pieceColumns ?? 128, activationBytes(model, samples[0]!), o.layerPerPass ? upstreamRequests(model.graph, requests) : undefined, Boolean(o.reference), overBudget);
  const report: CollectReport = { passes: passes.length, samples: samples.length, peakStatsBytes: 0, peakActivationBytes: 0, peakPassBytes: 0, budgetBytes, overBudget };
  const progress = new Progress('calibrating', passes.length * samples.length, o.quiet);
  let done = 0;
  for (const pass of passes) {
    const held = pass.map((u) => ({ ...u, stats: new LayerStats(layerName(u.request.node), u.layout, u.columns, u.gram, Boolean(o.reference)) }));
    const statsBytes = pass.reduce((s, u) => s + u.bytes, 0) + Math.max(0, ...pass.map((u) => u.workBytes));
    report.peakStatsBytes = Math.max(report.peakStatsBytes, statsBytes);
    const tensors = [...new Set(held.map((u) => u.request.node.inputs[0]!))];
    await streamActivationsOf(o.reference ? [model, o.reference] : [model], tensors, samples, (_i, [values, referenceValues]) => {
      let bytes = 0;
      for (const v of values!.values()) bytes += (v.data as ArrayBufferView).byteLength * (o.reference ? 2 : 1);
      report.peakActivationBytes = Math.max(report.peakActivationBytes, bytes);
      report.peakPassBytes = Math.max(report.peakPassBytes, statsBytes + bytes);
      for (const u of held) {
        const x = values!.get(u.request.node.inputs[0]!);
        if (!x || x.type !== 'float32') continue;
        const ref = referenceValues?.get(u.request.node.inputs[0]!);
        if (ref) forEachRowOf(u.request.node, u.request.weightDims, [x, ref], maxPositions, (g, [row, refRow]) => u.stats.add(g, row!, refRow));
        else forEachRowOf(u.request.node, u.request.weightDims, [x], maxPositions, (g, [row]) => u.stats.add(g, row!));
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
