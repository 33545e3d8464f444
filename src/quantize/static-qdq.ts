// int8 static quantization in QDQ form: QuantizeLinear/DequantizeLinear pairs on the
// activations qdq-placement.ts chooses (ranges from calibration), int8 weights behind a
// DequantizeLinear (per channel where the opset allows), int32 biases with scale
// s_x * s_w. The graph stays standard ONNX; onnxruntime fuses the groups into integer
// kernels when it loads it.
import { Node, attr, type Graph, type Model } from '../ir/graph.js';
import { DataType } from '../ir/dtype.js';
import { NameAllocator, addInitializer, insertNodes, removeNodes, renameOutput, replaceAllUses, setInput } from '../ir/mutate.js';
import { inferShapes, type ShapeMap } from '../ir/shapes.js';
import { Tensor } from '../ir/tensor.js';
import { badOption } from '../errors.js';
import { CalibrationCache, calibrate } from './calibrate.js';
import { asksTechniques, type LeftInFloat, type QuantizeOptions, type WeightOverride } from './options.js';
import { WEIGHTED, planQdq, type PlanOptions, type QdqPlan } from './qdq-placement.js';
import { shapesAtSample } from './kernel-cost.js';
import { isWide, qParams, qRange, quantizeBias, quantizeWeights, quantizedArray, quantizedDataType, quantizedTypeOf, type QType, type QuantOptions } from './quant-math.js';

/** Ops int8-static may touch (the placement decides which actually run in integer). */
export const STATIC_OPS = [
  'Conv', 'ConvTranspose', 'MatMul', 'Gemm', 'Add', 'Mul', 'Concat', 'AveragePool', 'GlobalAveragePool', 'LeakyRelu', 'Sigmoid',
  'Reshape', 'Transpose', 'Squeeze', 'Unsqueeze', 'Gather', 'MaxPool', 'Resize', 'Split', 'Relu', 'Clip',
];

/** Where each weighted op keeps its output channels in the weight tensor. */
function weightAxis(node: Node, rank: number): number | undefined {
  if (node.opType === 'Conv') return 0;
  if (node.opType === 'ConvTranspose') return node.getInt('group', 1) === 1 ? 1 : undefined;
  if (node.opType === 'Gemm') return node.getInt('transB', 0) ? 0 : 1;
  if (node.opType === 'MatMul') return rank === 2 ? 1 : undefined;
  return undefined;
}

interface Params { scale: string; zeroPoint: number; type: QType; value: number }

/**
 * Scalar initializers by value: every pair with one scale or zero point reads one tensor
 * (a model's zero points are few values; absorbed clamps give many pairs zero point 0).
 */
class Scalars {
  private readonly byValue = new Map<string, string>();
  constructor(private readonly graph: Graph, private readonly names: NameAllocator) {}
  float(value: number): string {
    const v = Math.fround(value);
    return this.get(`f:${v}`, 'scale', (name) => Tensor.fromFloat32(name, [], Float32Array.of(v)));
  }
  int(value: number, type: QType): string {
    return this.get(`${type}:${value}`, `zp_${type}_${value < 0 ? `m${-value}` : value}`, (name) => {
      const v = quantizedArray(type, 1);
      v[0] = value;
      return Tensor.fromTyped(name, quantizedDataType(type), [], v);
    });
  }
  private get(key: string, base: string, make: (name: string) => Tensor): string {
    let name = this.byValue.get(key);
    if (!name) {
      name = this.names.next(base);
      addInitializer(this.graph, make(name));
      this.byValue.set(key, name);
    }
    return name;
  }
}

/**
 * The zero-point input of an activation's QuantizeLinear/DequantizeLinear: always given, even
 * where the default (0) would mean the same, because onnxruntime folds a pair around
 * Reshape/Squeeze/Gather/Resize (and fuses DQ -> Gemm/MatMul) only when both ends name their
 * zero points. Shared by value, so it costs one small initializer per distinct zero point.
 */
function zeroPointInput(p: Params, scalars: Scalars): string[] {
  return [scalars.int(p.zeroPoint, p.type)];
}

/**
 * For an If branch quantized as a model of its own (subgraphs.ts): names are taken from the
 * allocator of the whole enclosing model, so nothing put back clashes with the outer graph.
 */
export interface BodyScope { names: NameAllocator }

/** The placement options quantizeStatic plans with, in one place so others can plan alike. */
function placementOf(model: Model, o: QuantizeOptions, shapes: ShapeMap, runShapes: ShapeMap, isAllowed: (node: Node) => boolean): PlanOptions {
  return {
    shapes,
    runShapes,
    allowed: isAllowed,
    absorbActivations: !(o.symmetricActivations ?? false),
    opset: model.opset('') ?? 1,
    largeDepthwiseInFloat: o.largeDepthwise === 'float',
    depthwiseInInteger: o.largeDepthwise === 'integer',
    fullInteger: o.placement === 'full-integer',
    kernels: o.placement === 'wasm' ? 'wasm' : 'cpu',
  };
}

/**
 * The weighted nodes of the main graph whose weights quantizeStatic will round: those its
 * plan runs in integer, and ConvTranspose (weights only). Techniques that edit weights or
 * biases for the rounding (bias correction, GPTQ) must leave the others alone: a conv the
 * cost model keeps float keeps its float weights, so a correction would only add error.
 * Without Concat spreading (it keeps Concats, not weighted nodes, float).
 */
export function weightsRounded(model: Model, o: QuantizeOptions): Set<Node> {
  const graph = model.graph;
  const left: LeftInFloat[] = [];
  const plan = planQdq(graph, placementOf(model, o, inferShapes(graph), shapesAtSample(graph, o.calibration?.[0]), (node) => allowed(node, o, left)), left);
  return new Set(graph.nodes.filter((n) => roundsWeights(n, plan, o)));
}

/** Whether quantizeStatic rounds this node's weight: it runs in integer, or it is a ConvTranspose (weights only; no integer kernel on CPU). */
function roundsWeights(node: Node, plan: QdqPlan, o: QuantizeOptions): boolean {
  return node.isOnnx() && WEIGHTED.has(node.opType) && (plan.integer.has(node) || (node.opType === 'ConvTranspose' && allowed(node, o, [])));
}

/**
 * Quantizes `model.graph`. The main graph's If branches are left to subgraphs.ts (the caller
 * runs quantizeIfBodies next); other subgraphs, and any nested in a body, are listed float.
 */
export async function quantizeStatic(model: Model, o: QuantizeOptions, left: LeftInFloat[], perChannel: boolean, body?: BodyScope): Promise<Record<string, number>> {
  const graph = model.graph;
  if (!o.calibration?.length) throw badOption(['calibration'], 'int8-static needs calibration samples to measure activation ranges on (calibration)');
  const actOptions: QuantOptions = { type: o.activationType ?? 'uint8', symmetric: o.symmetricActivations ?? false, reduceRange: false };
  const weightOptions: QuantOptions = { type: o.weightType ?? 'int8', symmetric: o.symmetricWeights ?? true, reduceRange: o.reduceRange };
  noteSubgraphNodes(model, left, !body);
  const shapes = inferShapes(graph), runShapes = shapesAtSample(graph, o.calibration[0]);
  const calibration = o.calibration;
  // The caller's measurements unless a technique changed the model since; either way one
  // measurement serves every plan below (the model does not change between them).
  const cache = asksTechniques(o) || !o.calibrationCache ? new CalibrationCache(calibration) : o.calibrationCache;
  // The plan with the nodes of `float` kept float (each with its reason), and the ranges it needs.
  const planned = async (float: Map<Node, string>) => {
    const planLeft: LeftInFloat[] = [...float].map(([n, reason]) => ({ node: n.name || n.outputs[0] || '?', opType: n.opType, reason }));
    const plan = planQdq(graph, placementOf(model, o, shapes, runShapes, (node) => !float.has(node) && allowed(node, o, planLeft)), planLeft);
    const wanted = [...new Set([...plan.tensors.values()].flatMap((t) => (t.rangeOf ? [t.rangeOf] : [])))];
    const ranges = await calibrate(model, wanted, calibration, { method: o.method === undefined || o.method === 'auto' ? 'minmax' : o.method, percentile: o.percentile, symmetric: o.symmetricActivations }, cache);
    return { plan, ranges, planLeft };
  };
  // A Concat in integer requantizes every input to one output scale: inputs whose calibrated
  // ranges are far apart (a detector head's box offsets beside its sigmoid scores) leave the
  // narrow ones a few of the 256 steps. Such a Concat stays float, and the plan is made again,
  // until no Concat is newly spread: one kept float can give another a narrow input (a Gather
  // that shared its scale). A Split needs no such test: its input is quantized whether or not
  // it runs in int8, so its outputs carry that one grid either way.
  const spread = new Map<Node, string>();
  let { plan, ranges, planLeft } = await planned(spread);
  for (let more = o.placement === 'full-integer' ? new Map<Node, string>() : spreadConcats(graph, plan, ranges); more.size; more = spreadConcats(graph, plan, ranges)) {
    for (const [n, why] of more) spread.set(n, why);
    ({ plan, ranges, planLeft } = await planned(spread));
  }
  left.push(...planLeft);

  const names = body?.names ?? new NameAllocator(graph);
  const scalars = new Scalars(graph, names);
  const producers = graph.producers();
  const wide = new Set(o.wideTensors ?? []);
  // A tensor sharing another's scale (Reshape, Transpose ...) is widened through the tensor it shares with.
  for (const t of plan.tensors.values()) {
    if (!t.shareWith || !wide.has(t.name)) continue;
    let root = plan.tensors.get(t.shareWith);
    while (root?.shareWith) root = plan.tensors.get(root.shareWith);
    if (root) wide.add(root.name);
  }
  const wideOptions: QuantOptions = { ...actOptions, type: actOptions.type === 'int8' || actOptions.type === 'int16' ? 'int16' : 'uint16' };
  const newNodes: Node[] = [];
  const params = new Map<string, Params>();
  const absorbedCounts: Record<string, number> = {};
  for (const t of plan.tensors.values()) {
    let p: Params | undefined;
    if (t.shareWith) p = params.get(t.shareWith);
    else {
      const r = ranges.get(t.rangeOf!);
      if (r && Number.isFinite(r.min) && Number.isFinite(r.max)) {
        const to = wide.has(t.name) ? wideOptions : actOptions;
        const q = qParams(r.min, r.max, to);
        p = { scale: scalars.float(q.scale), zeroPoint: q.zeroPoint, type: to.type, value: Math.fround(q.scale) };
      }
    }
    if (!p) continue; // never reached by calibration (a dead branch): stays float
    let source = t.source, dq = t.name;
    // A weighted op the plan leaves float reads the value as computed: rounded to 8 bits it
    // would only lose precision (and onnxruntime would quantize a Conv on it anyway). Only
    // where a float op wrote it from float inputs (a graph input, its Cast): a second reader of
    // an integer op's output, or of a data-movement op between a DequantizeLinear and this
    // pair, would keep onnxruntime from fusing or folding it. Nor when the pair absorbed an
    // activation or a scale: its source is not the value then.
    const producer = producers.get(t.name);
    const floatWritten = !producer || (!plan.integer.has(producer) && !producer.inputs.some((i) => plan.tensors.has(i)));
    const exact = floatWritten && t.source === t.name && !t.absorbs?.length && !t.factor && !t.sourceFactor;
    const floatReaders = exact ? graph.nodes.filter((n) => WEIGHTED.has(n.opType) && !plan.integer.has(n) && n.inputs.includes(t.name)) : [];
    if (t.graphInput) {
      dq = names.next(`${t.name}_dq`);
      replaceAllUses(graph, t.name, dq);
    } else if (source === t.name) {
      source = names.next(`${t.name}_f`);
      renameOutput(producer!, t.name, source);
    }
    for (const n of floatReaders) n.inputs = n.inputs.map((i) => (i === dq ? source : i));
    const qName = names.next(`${t.name}_q`);
    const qScale = t.sourceFactor ? scalars.float(p.value / t.sourceFactor) : p.scale;
    // Q/DQ nodes go unnamed (names are optional): on small models their names weigh more than the weights saved.
    newNodes.push(nodeOf('QuantizeLinear', [source, qScale, ...zeroPointInput(p, scalars)], [qName], ''));
    if (t.factor) {
      const value = Math.fround(p.value * t.factor);
      p = { ...p, scale: scalars.float(value), value };
    }
    newNodes.push(nodeOf('DequantizeLinear', [qName, p.scale, ...zeroPointInput(p, scalars)], [dq], ''));
    params.set(dq, p);
    if (dq !== t.name) params.set(t.name, p);
    if (t.absorbs) { removeNodes(graph, t.absorbs); for (const n of t.absorbs) absorbedCounts[n.opType] = (absorbedCounts[n.opType] ?? 0) + 1; }
  }

  const weightCache = new Map<string, { dq: string; scales: Float32Array }>();
  const constCache = new Map<string, string>();
  const counts: Record<string, number> = {};
  const count = (op: string) => { counts[op] = (counts[op] ?? 0) + 1; };
  for (const [op, n] of Object.entries(absorbedCounts)) counts[`${op} (absorbed)`] = n;
  const weightNodes = graph.nodes.filter((n) => roundsWeights(n, plan, o));
  for (const node of weightNodes) {
    const w = graph.findInitializer(node.inputs[1] ?? '');
    const axis = w ? weightAxis(node, w.dims.length) : undefined;
    if (!w || w.dataType !== DataType.FLOAT || (axis === undefined && node.opType !== 'MatMul')) continue;
    const key = `${node.inputs[1]}|${perChannel ? axis : 'tensor'}`;
    let q = weightCache.get(key);
    if (!q) {
      q = addWeight(graph, names, node.inputs[1]!, w, weightOptions, perChannel ? axis : undefined, newNodes, o.weightOverrides?.get(node.inputs[1]!), node.opType === 'Gemm' || node.opType === 'MatMul');
      weightCache.set(key, q);
    }
    setInput(node, 1, q.dq);
    // onnxruntime has no integer ConvTranspose on CPU: its weights shrink, its activations stay float.
    if (!plan.integer.has(node)) count(`${node.opType} (weights only)`);
    const x = params.get(node.inputs[0] ?? '');
    const bias = graph.findInitializer(node.inputs[2] ?? '');
    // A 16-bit input runs the op in float anyway, and its tiny scale would saturate int32 biases.
    const width = bias ? biasWidth(node, bias) : undefined;
    // Only an integer kernel takes an int32 bias; a float op (ConvTranspose, weights only) keeps its own.
    if (bias && x && plan.integer.has(node) && !isWide(x.type) && bias.dataType === DataType.FLOAT && width !== undefined && (q.scales.length === 1 || q.scales.length === width)) {
      setInput(node, 2, addBias(graph, names, node.inputs[2]!, bias, x.value, q.scales, newNodes));
    }
  }
  for (const node of graph.nodes) {
    if (!plan.integer.has(node)) continue;
    if (node.opType === 'Add' || node.opType === 'Mul' || node.opType === 'Concat' || node.opType === 'Sub' || node.opType === 'Div') {
      // The integer kernels take every input quantized: constants too.
      node.inputs.forEach((name, i) => {
        const c = graph.findInitializer(name);
        if (!c || c.dataType !== DataType.FLOAT) return;
        let dq = constCache.get(name);
        if (!dq) { dq = addConstant(graph, names, scalars, name, c, actOptions, newNodes); constCache.set(name, dq); }
        setInput(node, i, dq);
      });
    }
    count(node.opType);
  }
  insertNodes(graph, newNodes);
  keepFloatLayersFloat(graph, names, left);
  return counts;
}

/**
 * A float Conv, ConvTranspose or Gemm whose input is dequantized per tensor and whose output
 * goes (through Relu/Clip only) to one QuantizeLinear is quantized anyway by onnxruntime 1.20
 * and later when it loads the model (its WeightBiasQuantization pass: int8 weights per tensor,
 * then QLinearConv). Where the dequantized input cannot be negative (its zero point is the
 * type's minimum: a clamped activation) a Relu between them is exact and keeps the node float,
 * as the plan (or the caller's exclusion) meant; elsewhere the node's reason says it runs in int8.
 */
function keepFloatLayersFloat(graph: Graph, names: NameAllocator, left: LeftInFloat[]): void {
  const producers = graph.producers();
  const consumers = graph.consumers();
  const leadsToQ = (start: Node): boolean => {
    for (let n = start; ;) {
      const readers = n.outputs.length === 1 ? consumers.get(n.outputs[0]!) ?? [] : [];
      if (readers.length !== 1) return false;
      const r = readers[0]!;
      if (r.opType === 'QuantizeLinear') return true;
      if (r.opType !== 'Relu' && r.opType !== 'Clip') return false;
      n = r;
    }
  };
  const added: Node[] = [];
  for (const node of graph.nodes) {
    if (!node.isOnnx() || !(node.opType === 'Conv' || node.opType === 'ConvTranspose' || node.opType === 'Gemm')) continue;
    const dq = producers.get(node.inputs[0] ?? '');
    const w = graph.findInitializer(node.inputs[1] ?? '');
    if (!dq || dq.opType !== 'DequantizeLinear' || !w || w.dataType !== DataType.FLOAT) continue;
    const scale = graph.findInitializer(dq.inputs[1] ?? '');
    if (!scale || scale.elementCount !== 1 || !leadsToQ(node)) continue;
    if (nonNegative(graph, dq)) {
      const clamped = names.next(`${node.inputs[0]}_float`);
      added.push(nodeOf('Relu', [node.inputs[0]!], [clamped], names.next(`${node.name || node.outputs[0]}_keeps_float`)));
      setInput(node, 0, clamped);
      continue;
    }
    const name = node.name || node.outputs[0] || '?';
    for (const l of left) {
      if (l.node === name && !l.reason.includes('WeightBiasQuantization')) l.reason += '; but it sits between quantized tensors, so onnxruntime (1.20+) quantizes it per tensor when it loads the model (WeightBiasQuantization) and it runs in int8 there';
    }
  }
  insertNodes(graph, added);
}

/** Whether a DequantizeLinear's output is never negative: its zero point is its type's minimum. */
function nonNegative(graph: Graph, dq: Node): boolean {
  const zp = dq.inputs[2] ? graph.findInitializer(dq.inputs[2]) : undefined;
  if (!dq.inputs[2]) return true; // no zero point: uint8 with 0
  if (!zp || zp.elementCount !== 1) return false;
  const type = quantizedTypeOf(zp.dataType);
  return type !== undefined && zp.toFloat32()[0] === qRange(type)[0];
}

function noteSubgraphNodes(model: Model, left: LeftInFloat[], skipIfs: boolean): void {
  for (const holder of model.graph.nodes) {
    if (skipIfs && holder.isOnnx('If')) continue;
    for (const sub of holder.subgraphs()) for (const g of [sub, ...sub.descendants()]) noteFloat(g, left, 'inside a subgraph (If/Loop/Scan body)');
  }
}

/** Lists the nodes of `graph` int8-static could touch as left float for `reason`. */
export function noteFloat(graph: Graph, left: LeftInFloat[], reason: string): void {
  for (const node of graph.nodes) if (node.isOnnx() && STATIC_OPS.includes(node.opType)) left.push({ node: node.name || node.outputs[0] || '?', opType: node.opType, reason });
}

/** Most a Concat's widest input range may exceed its narrowest for one shared scale: the narrowest keeps about 26 of the 256 steps. */
const MAX_CONCAT_RANGE_RATIO = 10;

/** Integer Concats whose inputs' calibrated ranges differ more than MAX_CONCAT_RANGE_RATIO, with the reason. */
function spreadConcats(graph: Graph, plan: ReturnType<typeof planQdq>, ranges: Map<string, { min: number; max: number }>): Map<Node, string> {
  const span = (min: number, max: number) => (Number.isFinite(min) && Number.isFinite(max) ? Math.max(max, 0) - Math.min(min, 0) : undefined);
  // The range a reader sees: the calibrated one times the scalar the pair absorbed (its DQ scales by it).
  const width = (name: string): number | undefined => {
    const c = graph.findInitializer(name);
    if (c) {
      const v = c.toFloat32();
      let [lo, hi] = [Infinity, -Infinity];
      for (const x of v) { if (x < lo) lo = x; if (x > hi) hi = x; }
      return v.length ? span(lo, hi) : undefined;
    }
    let t = plan.tensors.get(name);
    while (t?.shareWith) t = plan.tensors.get(t.shareWith);
    const r = t?.rangeOf ? ranges.get(t.rangeOf) : undefined;
    const w = r ? span(r.min, r.max) : undefined;
    return w === undefined ? undefined : w * (t!.factor ?? 1);
  };
  const out = new Map<Node, string>();
  for (const node of graph.nodes) {
    if (node.opType !== 'Concat' || !plan.integer.has(node)) continue;
    // An all-zero input loses nothing at any scale.
    const widths = node.inputs.map(width).filter((w): w is number => w !== undefined && w > 0);
    if (widths.length < 2) continue;
    const [lo, hi] = [Math.min(...widths), Math.max(...widths)];
    if (hi > MAX_CONCAT_RANGE_RATIO * lo) out.set(node, `its inputs' ranges differ ${(hi / lo).toFixed(0)}x: one shared int8 scale would leave the narrowest ${Math.max(1, Math.floor(256 * lo / hi))} of 256 steps, so it stays float`);
  }
  return out;
}

/** The op-type and node filters of the options; an excluded node is listed once. */
export function allowed(node: Node, o: QuantizeOptions, left: LeftInFloat[]): boolean {
  const name = node.name || node.outputs[0] || '?';
  if (o.opTypes && !o.opTypes.includes(node.opType)) return false;
  const reason = o.excludeOpTypes?.includes(node.opType) ? 'op type excluded' : o.excludeNodes?.includes(name) ? 'node excluded' : undefined;
  if (!reason) return true;
  if (!left.some((l) => l.node === name)) left.push({ node: name, opType: node.opType, reason });
  return false;
}

function nodeOf(opType: string, inputs: string[], outputs: string[], name: string, axis?: number): Node {
  const n = new Node({ opType, inputs, outputs, name });
  if (axis !== undefined) n.setAttr(attr.int('axis', axis));
  return n;
}

/** A float constant read by an integer Add/Mul/Concat: per tensor, in the activation type. */
function addConstant(graph: Graph, names: NameAllocator, scalars: Scalars, base: string, c: Tensor, o: QuantOptions, newNodes: Node[]): string {
  const q = quantizeWeights(c.toFloat32(), c.dims, o);
  const qName = names.next(`${base}_q`);
  addInitializer(graph, Tensor.fromTyped(qName, quantizedDataType(o.type), c.dims, q.values));
  const p: Params = { scale: scalars.float(q.scales[0]!), zeroPoint: q.zeroPoints[0]!, type: o.type, value: q.scales[0]! };
  const dq = names.next(`${base}_dq`);
  newNodes.push(nodeOf('DequantizeLinear', [qName, p.scale, ...zeroPointInput(p, scalars)], [dq], ''));
  return dq;
}
function addWeight(graph: Graph, names: NameAllocator, base: string, w: Tensor, o: QuantOptions, axis: number | undefined, newNodes: Node[], override?: WeightOverride, explicitZeroPoint = false) {
  // A technique's rounding (GPTQ, bias correction) is used as given when it has this layout.
  const q = override && override.axis === axis && o.type === 'int8' ? override : quantizeWeights(w.toFloat32(), w.dims, o, axis);
  const qName = names.next(`${base}_q`);
  const sName = names.next(`${base}_s`);
  const zName = names.next(`${base}_zp`);
  const dq = names.next(`${base}_dq`);
  const perChannel = axis !== undefined;
  addInitializer(graph, Tensor.fromTyped(qName, quantizedDataType(o.type), w.dims, q.values));
  addInitializer(graph, Tensor.fromFloat32(sName, perChannel ? [q.scales.length] : [], q.scales));
  // A zero point of 0 is the default, and Conv fuses into QLinearConv without one; but
  // onnxruntime fuses DequantizeLinear -> Gemm/MatMul into QGemm/QLinearMatMul/
  // MatMulIntegerToFloat only when the weight's zero point is an input, so those get it always.
  const inputs = [qName, sName];
  if (explicitZeroPoint || q.zeroPoints.some((z) => z !== 0)) {
    addInitializer(graph, Tensor.fromTyped(zName, quantizedDataType(o.type), perChannel ? [q.scales.length] : [], q.zeroPoints));
    inputs.push(zName);
  }
  newNodes.push(nodeOf('DequantizeLinear', inputs, [dq], '', perChannel ? axis : undefined));
  return { dq, scales: q.scales };
}

/**
 * A bias onnxruntime's integer kernels take: one value per output channel. Gemm's C may also
 * be [1, N] (PyTorch and CNTK exports write that), which broadcasts over the rows exactly as
 * [N] does; left float, it kept onnxruntime from fusing the Gemm, which then dequantized its
 * weights on every run (the ONNX MNIST CNN: 7.5 us of a 65 us run).
 */
function biasWidth(node: Node, bias: Tensor): number | undefined {
  if (bias.dims.length === 1) return bias.dims[0];
  return node.opType === 'Gemm' && bias.dims.length === 2 && bias.dims[0] === 1 ? bias.dims[1] : undefined;
}

function addBias(graph: Graph, names: NameAllocator, base: string, bias: Tensor, inputScale: number, weightScales: Float32Array, newNodes: Node[]): string {
  const b = quantizeBias(bias.toFloat32(), inputScale, weightScales);
  const qName = names.next(`${base}_q`);
  const sName = names.next(`${base}_s`);
  const dq = names.next(`${base}_dq`);
  // Per-tensor weights give one bias scale: a scalar, which opsets before 13 require.
  const perChannel = weightScales.length > 1;
  addInitializer(graph, Tensor.fromTyped(qName, DataType.INT32, [b.values.length], b.values));
  addInitializer(graph, Tensor.fromFloat32(sName, perChannel ? [b.scales.length] : [], perChannel ? b.scales : b.scales.subarray(0, 1)));
  newNodes.push(nodeOf('DequantizeLinear', [qName, sName], [dq], '', perChannel ? 0 : undefined));
  return dq;
}
