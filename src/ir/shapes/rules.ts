// The shape rule of each default-domain op: output element types and dims from the
// inputs. An op without a rule gives its outputs no shape (never a guessed one).
import { DataType } from '../dtype.js';
import type { Dim, Node } from '../graph.js';
import { argReduce, broadcast, convLike, convTranspose, gemm, matmul, recurrent, reduce } from './compute.js';
import type { RuleContext, ValueShape } from './context.js';
import * as layout from './layout.js';
import { sameDim } from './symbolic.js';

const UNARY_SAME = [
  'Relu', 'LeakyRelu', 'PRelu', 'Sigmoid', 'Tanh', 'Exp', 'Log', 'Abs', 'Neg', 'Sqrt', 'Reciprocal', 'Floor', 'Ceil',
  'Round', 'Erf', 'Sin', 'Cos', 'Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Softmax', 'LogSoftmax', 'HardSigmoid',
  'HardSwish', 'Elu', 'Selu', 'Softplus', 'Softsign', 'Clip', 'Identity', 'BatchNormalization', 'InstanceNormalization',
  'LRN', 'Gelu', 'Mish', 'Sign', 'Celu', 'ThresholdedRelu', 'Hardmax', 'CumSum', 'Trilu', 'ReverseSequence',
  'ScatterElements', 'ScatterND', 'Scatter', 'MeanVarianceNormalization', 'LpNormalization',
  'Shrink', 'Bernoulli', 'GroupNormalization',
];
const BROADCAST = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Mod', 'BitShift', 'BitwiseAnd', 'BitwiseOr', 'BitwiseXor'];
const COMPARE = ['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor'];
const REDUCE = ['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL2', 'ReduceL1', 'ReduceSumSquare', 'ReduceLogSum', 'ReduceLogSumExp'];
const POOL = ['Conv', 'ConvInteger', 'MaxPool', 'AveragePool', 'LpPool', 'QLinearConv'];

type Rule = (ctx: RuleContext) => (ValueShape | undefined)[];

/** One output of input 0's element type with the given dims. */
const same = (f: (ctx: RuleContext) => Dim[] | undefined): Rule => (ctx) => [{ elemType: ctx.ins[0]?.elemType, dims: f(ctx) }];
const typed = (elemType: number, f: (ctx: RuleContext) => Dim[] | undefined): Rule => (ctx) => [{ elemType, dims: f(ctx) }];

function broadcastAll(ctx: RuleContext, from: number): Dim[] | undefined {
  const all = ctx.ins.slice(from).map((s) => s?.dims);
  return all.every((d) => d) ? broadcast(all as Dim[][]) : undefined;
}

const RULES: Record<string, Rule> = {
  ...Object.fromEntries(UNARY_SAME.map((op) => [op, same((ctx) => ctx.dims(0))])),
  ...Object.fromEntries(BROADCAST.map((op) => [op, same((ctx) => broadcastAll(ctx, 0))])),
  ...Object.fromEntries(COMPARE.map((op) => [op, typed(DataType.BOOL, (ctx) => broadcastAll(ctx, 0))])),
  ...Object.fromEntries(REDUCE.map((op) => [op, same(reduce)])),
  ...Object.fromEntries(POOL.map((op) => [op, (ctx: RuleContext) => [{ elemType: op === 'ConvInteger' ? DataType.INT32 : ctx.ins[0]?.elemType, dims: convLike(ctx) }]])),
  Not: typed(DataType.BOOL, (ctx) => ctx.dims(0)),
  IsNaN: typed(DataType.BOOL, (ctx) => ctx.dims(0)),
  IsInf: typed(DataType.BOOL, (ctx) => ctx.dims(0)),
  Where: (ctx) => [{ elemType: ctx.ins[1]?.elemType ?? ctx.ins[2]?.elemType, dims: broadcastAll(ctx, 0) }],
  Dropout: (ctx) => [{ elemType: ctx.ins[0]?.elemType, dims: ctx.dims(0) }, { elemType: DataType.BOOL, dims: ctx.dims(0) }],
  LayerNormalization: (ctx) => {
    const x = ctx.dims(0);
    const axis = ctx.node.getInt('axis', -1);
    const stat = x?.map((d, i) => (i < (axis < 0 ? axis + x.length : axis) ? d : 1));
    return [{ elemType: ctx.ins[0]?.elemType, dims: x }, { elemType: DataType.FLOAT, dims: stat }, { elemType: DataType.FLOAT, dims: stat }];
  },
  QuantizeLinear: (ctx) => [{ elemType: ctx.ins[2]?.elemType ?? DataType.UINT8, dims: ctx.dims(0) }],
  DequantizeLinear: (ctx) => [{ elemType: ctx.ins[1]?.elemType, dims: ctx.dims(0) }],
  DynamicQuantizeLinear: (ctx) => [{ elemType: DataType.UINT8, dims: ctx.dims(0) }, { elemType: DataType.FLOAT, dims: [] }, { elemType: DataType.UINT8, dims: [] }],
  Cast: (ctx) => [{ elemType: ctx.node.getInt('to'), dims: ctx.dims(0) }],
  RandomUniformLike: likeInput, RandomNormalLike: likeInput, EyeLike: likeInput,
  RandomUniform: (ctx) => [{ elemType: ctx.node.getInt('dtype', DataType.FLOAT), dims: ctx.node.getInts('shape') }],
  RandomNormal: (ctx) => [{ elemType: ctx.node.getInt('dtype', DataType.FLOAT), dims: ctx.node.getInts('shape') }],
  CastLike: (ctx) => [{ elemType: ctx.ins[1]?.elemType, dims: ctx.dims(0) }],
  Shape: typed(DataType.INT64, layout.shapeOfShape),
  Size: typed(DataType.INT64, () => []),
  ConvTranspose: same(convTranspose),
  GlobalAveragePool: same(globalPool), GlobalMaxPool: same(globalPool), GlobalLpPool: same(globalPool),
  MatMul: same((ctx) => matmul(ctx.dims(0), ctx.dims(1))),
  MatMulInteger: typed(DataType.INT32, (ctx) => matmul(ctx.dims(0), ctx.dims(1))),
  QLinearMatMul: (ctx) => [{ elemType: ctx.ins[7]?.elemType, dims: matmul(ctx.dims(0), ctx.dims(3)) }],
  Gemm: same(gemm),
  Flatten: same(layout.flatten),
  Reshape: same(layout.reshape),
  Transpose: same(layout.transpose),
  Squeeze: same(layout.squeeze),
  Unsqueeze: same(layout.unsqueeze),
  Concat: (ctx) => [{ elemType: ctx.ins.find((s) => s?.elemType !== undefined)?.elemType, dims: layout.concat(ctx) }],
  ArgMax: typed(DataType.INT64, argReduce), ArgMin: typed(DataType.INT64, argReduce),
  Gather: same(layout.gather),
  GatherElements: same((ctx) => ctx.dims(1)),
  ConstantOfShape: (ctx) => [{ elemType: ctx.node.getTensor('value')?.dataType ?? DataType.FLOAT, dims: layout.constantOfShape(ctx) }],
  Slice: same(layout.slice),
  Split: layout.split,
  Pad: same(layout.pad),
  Tile: same(layout.tile),
  Expand: same(layout.expand),
  Range: same(layout.range),
  Resize: same(layout.resize), Upsample: same(layout.resize),
  TopK: (ctx) => { const d = layout.topK(ctx); return [{ elemType: ctx.ins[0]?.elemType, dims: d }, { elemType: DataType.INT64, dims: d }]; },
  NonZero: (ctx) => [{ elemType: DataType.INT64, dims: ctx.dims(0) ? [ctx.dims(0)!.length, null] : undefined }],
  OneHot: (ctx) => {
    const x = ctx.dims(0);
    if (!x) return [{ elemType: ctx.ins[2]?.elemType }];
    const axis = ctx.node.getInt('axis', -1);
    const out: Dim[] = [...x];
    out.splice(axis < 0 ? axis + x.length + 1 : axis, 0, ctx.value(1)?.[0] ?? null);
    return [{ elemType: ctx.ins[2]?.elemType, dims: out }];
  },
  LSTM: recurrent, GRU: recurrent, RNN: recurrent,
  If: ifBranches,
};

/** The *Like generators: input 0's shape, the dtype attribute's type (else input 0's). */
function likeInput(ctx: RuleContext): ValueShape[] {
  return [{ elemType: ctx.node.getInt('dtype') ?? ctx.ins[0]?.elemType, dims: ctx.dims(0) }];
}

function globalPool(ctx: RuleContext): Dim[] | undefined {
  const x = ctx.dims(0);
  return x ? [x[0]!, x[1]!, ...x.slice(2).map(() => 1)] : undefined;
}

/** If: the taken branch's output shapes when the condition is known, else where both agree. */
function ifBranches(ctx: RuleContext): (ValueShape | undefined)[] {
  const branches = ['then_branch', 'else_branch'].map((n) => ctx.node.attr(n)?.g);
  if (!branches[0] || !branches[1]) return [];
  const cond = ctx.numbers(0)?.[0];
  if (cond !== undefined) {
    const taken = branches[cond ? 0 : 1]!;
    const shapes = ctx.subgraph(taken);
    return taken.outputs.map((o) => shapes.get(o.name));
  }
  const [a, b] = branches.map((g) => { const shapes = ctx.subgraph(g!); return g!.outputs.map((o) => shapes.get(o.name)); });
  return ctx.node.outputs.map((_, k) => {
    const [sa, sb] = [a![k], b![k]];
    const elemType = sa?.elemType ?? sb?.elemType;
    // A branch without a shape has its own diagnostics inside: nothing to add here.
    if (!sa?.dims || !sb?.dims) return { elemType };
    if (sa.dims.length !== sb.dims.length) return ctx.why(`output ${k}: the branches give ranks ${sa.dims.length} and ${sb.dims.length} and the condition ${ctx.source(0)} is not known`) ?? { elemType };
    return { elemType, dims: sa.dims.map((d, i) => (sameDim(d, sb.dims![i]) ? d : null)) };
  });
}

/** Output shapes of `node`; a rule says why through ctx.why when it cannot tell. */
export function applyRule(node: Node, ctx: RuleContext): (ValueShape | undefined)[] {
  if (!node.isOnnx()) {
    ctx.why(`custom-domain op (${node.domain}): no shape rule`);
    return [];
  }
  const rule = RULES[node.opType];
  if (!rule) {
    ctx.why(`no shape rule for ${node.opType}`);
    return [];
  }
  return rule(ctx);
}
