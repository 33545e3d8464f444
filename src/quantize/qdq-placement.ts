// Where int8-static puts QuantizeLinear/DequantizeLinear pairs. The aim is latency as well as
// size: onnxruntime's CPU provider fuses a QDQ group into an integer kernel only for some ops
// (QLinearConv, QLinearMatMul/MatMulIntegerToFloat, QGemm, QLinearAdd/Mul/Concat/AveragePool/
// GlobalAveragePool/LeakyRelu/Sigmoid), and drops the pairs around data-movement ops whose
// input and output share one scale (Reshape, Transpose, Squeeze, Unsqueeze, Gather, MaxPool,
// Resize, Split). Anything else runs in float on dequantized values, so a pair around it only costs
// time and error. The default ('cpu') plan therefore:
// - quantizes the activation inputs of Conv, MatMul and Gemm (the ops that pay for it);
// - runs Add, Concat, pooling, LeakyRelu, Sigmoid in integer only when their activations
//   arrive quantized anyway (or are tiny, like a squeeze-excite gate), never when their output
//   is a graph output (score maps stay float); Mul and MaxPool stay float (measured slower),
//   but for a Mul of two quantized tensors of one shape feeding integer ops (SiLU);
// - gives data-movement ops the scale of their input, so their pairs fold away;
// - absorbs Relu and Clip(0, c) into the producer's output quantization: quantizing the
//   producer's output with the activation's range (zero point at 0) saturates exactly as
//   the activation clamps, so the activation node is removed; a Mul/Div by a positive
//   constant next to a quantized tensor becomes a change of scale, and is removed too;
// - keeps numerically fragile ops (Softmax, normalization internals) in float, and a
//   Conv/MatMul/Gemm whose output feeds a Log (log-mel front ends);
// - leaves in float a depthwise conv whose taps mostly fall on padding at the calibration
//   size (kernel-cost.ts: the integer kernel multiplies them, the float one skips them);
// - leaves in float a conv reading a graph input (or the float stem after it) with too few
//   MACs per input element, or too short a reduction per output, to pay for quantizing it (a
//   first conv on an image; kernel-cost.ts); a MatMul/Gemm with constant weights there is
//   judged by the weight bytes it reads instead.
// 'wasm' plans as 'cpu' for onnxruntime-web's WebAssembly kernels, whose int8 convolutions
// lose more: every depthwise conv, and any conv reducing fewer than 64 values per output,
// stays float (kernel-cost.ts).
// 'full-integer' instead feeds every supported op through DequantizeLinear (int8 accelerators).
import type { Graph, Node } from '../ir/graph.js';
import type { ShapeMap } from '../ir/shapes.js';
import { DataType } from '../ir/dtype.js';
import type { LeftInFloat } from './options.js';
import { isHalf } from './float16-model.js';
import { MIN_MACS_PER_QUANTIZED_ELEMENT, MIN_MACS_PER_QUANTIZED_GEMM_ELEMENT, MIN_MACS_PER_QUANTIZED_STEM_ELEMENT, MIN_NARROW_INPUT_CHANNELS, MIN_NARROW_INPUT_OUTPUTS, depthwiseMostlyPadding, isDepthwise, narrowInput, shallowReduction, slowInWasm, tooFewMacsToQuantize } from './kernel-cost.js';

/** Ops whose second input is a weight. */
export const WEIGHTED: ReadonlySet<string> = new Set(['Conv', 'ConvTranspose', 'MatMul', 'Gemm']);
/** Ops with an integer kernel that need their weight-or-activation inputs quantized, and those positions. */
const ANCHORS: Record<string, number[]> = { Conv: [0], MatMul: [0, 1], Gemm: [0, 1] };
/** What full-integer placement quantizes: every op an int8 accelerator runs, at its activation inputs. */
const FULL_INTEGER: Record<string, number[] | 'all'> = {
  Conv: [0], ConvTranspose: [0], MatMul: [0, 1], Gemm: [0, 1], Add: 'all', Mul: 'all', Relu: [0], Clip: [0], LeakyRelu: [0], Sigmoid: [0],
  MaxPool: [0], AveragePool: [0], GlobalAveragePool: [0], Concat: 'all', Reshape: [0], Transpose: [0], Flatten: [0], Squeeze: [0],
  Unsqueeze: [0], Softmax: [0], Resize: [0], Split: [0],
};

/** Whether the op quantizes its activation inputs for itself (so they stay quantized while it does). */
export function quantizesInputs(opType: string): boolean {
  return opType in ANCHORS;
}

/** Ops with an integer kernel worth running only when their inputs are quantized already. */
// Not Mul in general: onnxruntime's QLinearMul (and its uint8 MaxPool) measured several times
// slower than the float op plus the conversions around it (PP-OCR classifier, one thread, x86).
// The exception (planQdq's gatesQuantized): a Mul of two quantized tensors of one shape whose
// output feeds integer ops, as in SiLU nets. onnxruntime fuses DQ, DQ -> Mul -> Q into
// QLinearMul anyway; planning it lets the Concat after it run in integer too (YOLOX-style
// detector, ddddocr's: 26.1 -> 24.3 ms, onnxruntime's own int8 24.0 ms, one thread, x86; in
// onnxruntime-web with placement wasm the same, 124 -> 125 ms, within noise).
const INTEGER_OPS: Record<string, number[] | 'all'> = {
  Add: 'all', Concat: 'all', AveragePool: [0], GlobalAveragePool: [0], LeakyRelu: [0], Sigmoid: [0],
};
/** Ops that move data without changing it: the output shares the input's scale. */
// Split too: onnxruntime runs DQ -> Split -> Q (every output at the input's scale) as an int8
// Split, so a ShuffleNet V2 or CSP block's chunk(2) does not leave its halves in float.
const SHARED_SCALE = new Set(['Reshape', 'Transpose', 'Squeeze', 'Unsqueeze', 'Gather', 'Resize', 'Split']);
/**
 * Ops whose output is quantized whatever reads it once they run in integer (QLinearConv has
 * no float output; the integer ops and the scale-sharing ones write their own pair): to undo
 * that pair the op itself returns to float, not only its readers.
 */
export const QUANTIZES_ITS_OUTPUT: ReadonlySet<string> = new Set(['Conv', 'Mul', ...Object.keys(INTEGER_OPS), ...SHARED_SCALE]);
/** Elements of a float input small enough to quantize just to keep an op in integer. */
const SMALL = 4096;
/** Ops whose float results quantization hurts most; they stay in float. */
export const FRAGILE_OPS = new Set(['Softmax', 'LogSoftmax', 'LayerNormalization', 'ReduceMean', 'Pow', 'Sqrt', 'Reciprocal']);

export interface PlannedTensor {
  /** The name consumers read: after the change, the DequantizeLinear output. */
  name: string;
  /** The float tensor fed to QuantizeLinear. */
  source: string;
  /** Calibrated tensor whose range sets the scale; or `shareWith`: reuse that planned tensor's scale. */
  rangeOf?: string;
  shareWith?: string;
  /** Dequantize with the scale times this (an absorbed Mul/Div by a constant after the producer). */
  factor?: number;
  /** Quantize `source` with the scale divided by this (an absorbed Mul/Div by a constant before the tensor). */
  sourceFactor?: number;
  /** Nodes this tensor's Q/DQ pair replaces (removed once the pair is in). */
  absorbs?: Node[];
  /** A graph input: readers are rewired to a new DequantizeLinear output instead. */
  graphInput?: boolean;
}

export interface QdqPlan {
  /** Planned tensors in graph order (a shared one after the one it shares with). */
  tensors: Map<string, PlannedTensor>;
  /** Nodes that run in integer (weighted ops also get int8 weights). */
  integer: Set<Node>;
}

export interface PlanOptions {
  shapes: ShapeMap;
  /** Whether a node may be quantized (op type and node filters); false leaves it in float. */
  allowed: (node: Node) => boolean;
  /** Absorbing clamps needs a zero point at the clamp's low end: asymmetric activations. */
  absorbActivations: boolean;
  opset: number;
  /**
   * Every supported op in integer, each fed by DequantizeLinear (for accelerators that run
   * the whole graph in integer), instead of only where onnxruntime's CPU kernels gain.
   */
  fullInteger?: boolean;
  /** Leave depthwise convolutions with kernels above 3x3 wholly in float. */
  largeDepthwiseInFloat?: boolean;
  /**
   * Shapes at the size the model runs at (the calibration samples'), for the kernel cost
   * model; `shapes` when absent.
   */
  runShapes?: ShapeMap;
  /** Every depthwise convolution in integer, whatever the kernel cost model says. */
  depthwiseInInteger?: boolean;
  /** Whose kernels the cost model prices: onnxruntime's CPU provider (default) or onnxruntime-web's WebAssembly one. */
  kernels?: 'cpu' | 'wasm';
}

export function planQdq(graph: Graph, o: PlanOptions, left: LeftInFloat[]): QdqPlan {
  const tensors = new Map<string, PlannedTensor>();
  const integer = new Set<Node>();
  const absorbed = new Set<Node>();
  const consumers = graph.consumers();
  const producers = graph.producers();
  const graphOutputs = graph.outputNames();
  const graphInputs = new Set(graph.inputs.map((v) => v.name));
  const isFloat = (name: string) => o.shapes.get(name)?.elemType === DataType.FLOAT;
  const isActivation = (name: string) => !!name && !graph.findInitializer(name) && isFloat(name);
  const elements = (name: string) => {
    // Symbolic dims count as 1: they are the batch (or sequence) both inputs share.
    const dims = o.shapes.get(name)?.dims;
    return dims ? dims.reduce((a: number, d) => a * (typeof d === 'number' ? d : 1), 1) : Infinity;
  };
  const nameOf = (n: Node) => n.name || n.outputs[0] || '?';

  // A tensor computed as x * c (or x / c) from a float x is quantized from x directly with
  // the scale divided by c, and that Mul/Div is removed.
  const planInput = (name: string) => {
    if (tensors.has(name)) return;
    let source = name, sourceFactor = 1;
    const chain: Node[] = [];
    for (let p = producers.get(source); p && !absorbed.has(p) && o.allowed(p) && !graphOutputs.has(source); p = producers.get(source)) {
      const f = scalarFactor(graph, p);
      const x = p.inputs.find(isActivation);
      if (!f || !x || (chain.length && (consumers.get(source) ?? []).length !== 1)) break;
      chain.push(p);
      sourceFactor *= f;
      source = x;
    }
    for (const c of chain) absorbed.add(c);
    tensors.set(name, { name, source, rangeOf: name, graphInput: graphInputs.has(name) || undefined, sourceFactor: chain.length ? sourceFactor : undefined, absorbs: chain.length ? chain : undefined });
  };
  // The producer's output, or the end of the chain it feeds alone: a Relu/Clip(0, c) (the
  // quantization's saturation does its clamping) and then a Mul/Div by a positive scalar
  // constant (a change of the dequantization scale). The chain's nodes are removed.
  const planOutput = (t: string) => {
    if (tensors.has(t) || !isFloat(t)) return;
    let end = t, rangeOf = t, factor = 1;
    const chain: Node[] = [];
    const next = (name: string) => {
      const readers = consumers.get(name) ?? [];
      return readers.length === 1 && !graphOutputs.has(name) && o.allowed(readers[0]!) ? readers[0]! : undefined;
    };
    let n = next(end);
    if (n && o.absorbActivations && clampsAtZero(graph, n) && n.outputs[0]) { chain.push(n); end = rangeOf = n.outputs[0]; n = next(end); }
    for (let f = n && scalarFactor(graph, n); f && n?.outputs[0]; n = next(end), f = n && scalarFactor(graph, n)) {
      chain.push(n);
      factor *= f;
      end = n.outputs[0];
    }
    for (const c of chain) absorbed.add(c);
    tensors.set(end, { name: end, source: t, rangeOf, factor: factor === 1 ? undefined : factor, absorbs: chain.length ? chain : undefined });
  };
  // A Relu/Clip reader counts as integer only if the quantization absorbs it (asymmetric
  // activations) and what reads it (after the scalar Mul/Div planOutput may absorb with it)
  // is: without that an int8 MatMul before a Relu whose reader stays float would round its
  // output for nothing. A scalar Mul/Div read directly does not count (QK^T / sqrt(d) ->
  // Add(mask) -> Softmax stays float).
  // Not a Split: its outputs share one scale, so quantizing a tensor only for a Split to read
  // would give GPT-2's fused q, k and v one range; a Split shares a scale the input has anyway.
  const integerReader = (c: Node) => c.opType in ANCHORS || c.opType in INTEGER_OPS || (SHARED_SCALE.has(c.opType) && c.opType !== 'Split');
  const readIntegerAfterClamp = (t: string): boolean => !graphOutputs.has(t) && (consumers.get(t) ?? []).every((c) => o.allowed(c) && (
    integerReader(c) || (scalarFactor(graph, c) !== undefined && readIntegerAfterClamp(c.outputs[0] ?? ''))));
  const feedsInteger = (t: string): boolean => !graphOutputs.has(t) && (consumers.get(t) ?? []).every((c) => o.allowed(c) && (
    integerReader(c) || (o.absorbActivations && clampsAtZero(graph, c) && readIntegerAfterClamp(c.outputs[0] ?? ''))));

  // A graph input, or a float16 one cast to float (a float16 model, decoded): quantizing it costs the same.
  const halfInputs = new Set(graph.inputs.filter(isHalf).map((i) => i.name));
  const isInputCast = (name: string): boolean => {
    if (graphInputs.has(name)) return true;
    const p = producers.get(name);
    return !!p && p.isOnnx('Cast') && halfInputs.has(p.inputs[0] ?? '');
  };

  // Whether a tensor comes from graph inputs through ops all left in float (decided already:
  // producers come first in graph order).
  const stem = new Map<string, boolean>();
  const inFloatStem = (name: string): boolean => {
    if (isInputCast(name)) return true;
    if (tensors.has(name)) return false;
    let known = stem.get(name);
    if (known === undefined) {
      const p = producers.get(name);
      const acts = p ? p.inputs.filter(isActivation) : [];
      known = !!p && !integer.has(p) && !absorbed.has(p) && acts.length > 0 && acts.every(inFloatStem);
      stem.set(name, known);
    }
    return known;
  };

  // x * sigmoid(x) (SiLU) and gated units: two quantized tensors of one shape, no broadcast.
  const sameShape = (a: string, b: string) => {
    const x = o.shapes.get(a)?.dims, y = o.shapes.get(b)?.dims;
    // A symbolic dim matches only the same symbol (the batch both share).
    return !!x && !!y && x.length === y.length && x.every((d, i) => (typeof d === 'number' || (typeof d === 'string' && d !== '')) && d === y[i]);
  };
  const gatesQuantized = (n: Node) => n.inputs.length === 2 && n.inputs.every((i) => isActivation(i) && tensors.has(i)) && sameShape(n.inputs[0]!, n.inputs[1]!);
  // A data-movement op on a quantized input: each output (Split has several) takes its scale.
  // onnxruntime folds a Split's pairs only when every output has one, and drops the pair of an
  // output nothing reads: such a Split would run in float, so it is left there.
  const isRead = (t: string) => !!t && (graphOutputs.has(t) || (consumers.get(t) ?? []).length > 0);
  const shareScale = (node: Node): boolean => {
    if (!node.outputs.length || !node.outputs.every((t) => isRead(t) && isFloat(t) && !tensors.has(t))) return false;
    integer.add(node);
    for (const t of node.outputs) tensors.set(t, { name: t, source: t, shareWith: node.inputs[0]! });
    return true;
  };
  const costShapes = o.runShapes ?? o.shapes;
  for (const node of graph.nodes) {
    if (!node.isOnnx() || absorbed.has(node)) continue;
    const op = node.opType;
    const known = op in ANCHORS || op in INTEGER_OPS || SHARED_SCALE.has(op);
    if (known && !o.allowed(node)) continue;
    const out = node.outputs[0] ?? '';
    if (o.fullInteger && op in FULL_INTEGER && o.allowed(node)) {
      const positions = FULL_INTEGER[op]!;
      const acts = node.inputs.filter((name, i) => (positions === 'all' || positions.includes(i)) && isActivation(name));
      // Only a weighted op has anything to quantize without a float activation (its weights);
      // a Reshape's shape or a Split's sizes are not weights.
      if (!acts.length && !(WEIGHTED.has(op) && graph.findInitializer(node.inputs[1] ?? ''))) continue;
      acts.forEach(planInput);
      integer.add(node);
      if (SHARED_SCALE.has(op) && tensors.has(node.inputs[0] ?? '') && shareScale(node)) continue;
      planOutput(out);
      continue;
    }
    if (FRAGILE_OPS.has(op) || ((op === 'Sub' || op === 'Div') && node.inputs.every(isActivation))) { left.push({ node: nameOf(node), opType: op, reason: 'numerically fragile: kept in float' }); continue; }
    if (op in ANCHORS) {
      const acts = ANCHORS[op]!.map((i) => node.inputs[i] ?? '').filter(isActivation);
      const weighted = !!graph.findInitializer(node.inputs[1] ?? '');
      if (!acts.length && !weighted) continue;
      // Left wholly in float: a float Conv reading dequantized weights cannot prepack them and
      // runs slower still (measured 5x), and depthwise weights are small.
      if (o.largeDepthwiseInFloat && largeDepthwise(graph, node)) { left.push({ node: nameOf(node), opType: op, reason: 'depthwise kernel above 3x3 kept in float (largeDepthwise)' }); continue; }
      if (feedsLog(graph, consumers, out)) { left.push({ node: nameOf(node), opType: op, reason: FEEDS_LOG }); continue; }
      const wasm = o.kernels === 'wasm' ? slowInWasm(graph, node) : undefined;
      if (wasm && !(o.depthwiseInInteger && isDepthwise(graph, node))) { left.push({ node: nameOf(node), opType: op, reason: wasm }); continue; }
      if (!o.depthwiseInInteger && depthwiseMostlyPadding(graph, node, costShapes)) { left.push({ node: nameOf(node), opType: op, reason: 'depthwise kernel mostly over padding at the calibration size: kept in float (int8 multiplies padded taps)' }); continue; }
      const converted = acts.filter((a) => !tensors.has(a));
      let least = converted.some(isInputCast) ? MIN_MACS_PER_QUANTIZED_ELEMENT : converted.length && converted.every(inFloatStem) ? MIN_MACS_PER_QUANTIZED_STEM_ELEMENT : 0;
      if (least && weighted && (op === 'MatMul' || op === 'Gemm')) least = MIN_MACS_PER_QUANTIZED_GEMM_ELEMENT;
      const depth = least ? shallowReduction(graph, node, costShapes, SMALL) : undefined;
      if (depth !== undefined) { left.push({ node: nameOf(node), opType: op, reason: `reduction of ${depth} multiplies per output is too short to pay for int8 on its float input (graph input or float stem): kept in float` }); continue; }
      if (!(o.depthwiseInInteger && isDepthwise(graph, node)) && tooFewMacsToQuantize(node, converted, costShapes, SMALL, least)) { left.push({ node: nameOf(node), opType: op, reason: 'too few multiply-accumulates per element to pay for quantizing its float input (graph input or float stem): kept in float' }); continue; }
      // The kernel itself is slower, wherever its input comes from (the image, mostly).
      const narrow = o.kernels === 'wasm' ? undefined : narrowInput(graph, node);
      if (narrow) { left.push({ node: nameOf(node), opType: op, reason: `${narrow[0]} input channel(s) into ${narrow[1]} outputs: onnxruntime's int8 kernel runs such a conv slower than its float one (measured 1.07-1.48x below ${MIN_NARROW_INPUT_CHANNELS} in and ${MIN_NARROW_INPUT_OUTPUTS} out): kept in float` }); continue; }
      acts.forEach(planInput);
      integer.add(node);
      // QLinearConv needs its output quantized; MatMul and Gemm have float-output kernels.
      if (op === 'Conv' || feedsInteger(out)) planOutput(out);
    } else if (op in INTEGER_OPS || (op === 'Mul' && o.allowed(node) && gatesQuantized(node) && feedsInteger(out))) {
      const positions = INTEGER_OPS[op] ?? 'all';
      const acts = node.inputs.filter((name, i) => (positions === 'all' || positions.includes(i)) && isActivation(name));
      // A tiny float input (a squeeze-excite gate) is cheap to quantize; a large one is not.
      if (!acts.some((a) => tensors.has(a)) || !acts.every((a) => tensors.has(a) || elements(a) <= SMALL)) continue;
      if (graphOutputs.has(out) || !isFloat(out)) { left.push({ node: nameOf(node), opType: op, reason: 'produces a graph output: kept in float' }); continue; }
      acts.forEach(planInput);
      integer.add(node);
      planOutput(out);
    } else if (SHARED_SCALE.has(op)) {
      if (tensors.has(node.inputs[0] ?? '') && !shareScale(node) && op === 'Split' && !node.outputs.every(isRead)) {
        left.push({ node: nameOf(node), opType: op, reason: 'an output nothing reads: onnxruntime runs a Split in int8 only when every output has its pair, so it stays float' });
      }
    }
  }
  return { tensors, integer };
}

/**
 * Depthwise convolutions with kernels larger than 3x3: the caller's choice (largeDepthwise)
 * where the cost model (kernel-cost.ts, which finds the slow ones by their padding) is not wanted.
 */
function largeDepthwise(graph: Graph, node: Node): boolean {
  return isDepthwise(graph, node) && graph.findInitializer(node.inputs[1]!)!.dims.slice(2).reduce((a, b) => a * b, 1) > 9;
}

/** Why a layer whose output feeds a Log stays float (static and dynamic int8 alike). */
export const FEEDS_LOG = 'its output feeds a Log, which magnifies the error of quantizing its input: kept in float';

/** Elementwise ops with a constant other operand that pass a value on to a Log unchanged in kind. */
const TO_LOG = new Set(['Clip', 'Max', 'Min', 'Add', 'Mul', 'Div', 'Relu', 'Abs']);

/**
 * Whether `t` reaches a Log through a short chain of elementwise ops and nothing else. A log-mel
 * front end (power spectrum -> mel MatMul -> Clip -> Log) holds values over ~8 decades: an
 * 8-bit grid on the MatMul's input zeroes every quiet bin, and the Log turns those zeros into
 * its floor (openWakeWord's melspectrogram: cosine 0.50 with that one MatMul in int8).
 */
export function feedsLog(graph: Graph, consumers: Map<string, Node[]>, t: string): boolean {
  for (let depth = 0; depth < 4; depth++) {
    const readers = consumers.get(t) ?? [];
    if (readers.length !== 1 || !readers[0]!.isOnnx()) return false;
    const r = readers[0]!;
    if (r.opType === 'Log') return true;
    if (!TO_LOG.has(r.opType) || r.inputs.slice(1).some((i) => i && i !== t && !graph.findInitializer(i)) || r.inputs[0] !== t || !r.outputs[0]) return false;
    t = r.outputs[0];
  }
  return false;
}

/** The factor of a Mul or Div by a positive scalar float constant, else undefined. */
function scalarFactor(graph: Graph, node: Node): number | undefined {
  if (!node.isOnnx() || (node.opType !== 'Mul' && node.opType !== 'Div') || node.inputs.length !== 2) return undefined;
  const at = node.opType === 'Div' ? [1] : [1, 0];
  for (const i of at) {
    const c = graph.findInitializer(node.inputs[i]!);
    if (!c || c.dataType !== DataType.FLOAT || c.dims.reduce((a, b) => a * b, 1) !== 1) continue;
    const v = c.toFloat32()[0]!;
    if (!(v > 0) || !Number.isFinite(v)) return undefined;
    return node.opType === 'Div' ? 1 / v : v;
  }
  return undefined;
}

/** Relu, or Clip with a constant minimum of exactly 0 (and a constant or absent maximum). */
function clampsAtZero(graph: Graph, node: Node): boolean {
  if (!node.isOnnx()) return false;
  if (node.opType === 'Relu') return true;
  if (node.opType !== 'Clip') return false;
  const constant = (i: number): number | undefined => {
    const name = node.inputs[i];
    if (!name) return undefined;
    const t = graph.findInitializer(name);
    return t && t.dataType === DataType.FLOAT && t.dims.reduce((a, b) => a * b, 1) === 1 ? t.toFloat32()[0] : Number.NaN;
  };
  const min = node.inputs.length > 1 ? constant(1) : node.getFloat('min');
  const max = node.inputs.length > 2 ? constant(2) : node.getFloat('max');
  return min === 0 && !Number.isNaN(max);
}
