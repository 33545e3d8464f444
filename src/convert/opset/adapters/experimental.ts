// The experimental ops ONNX removed at opset 10 (old Caffe2 and CoreML conversions use
// them): the ones that are plain arithmetic are written as such, the rest refused.
import { attr, type Node } from '../../../ir/graph.js';
import { DataType } from '../../../ir/dtype.js';
import { type Adapter, forOps } from '../adapter.js';
import type { AdaptContext } from '../context.js';
import { baseName } from './inputs.js';

/** `input * factor` through a new Mul before the node (or `input` itself for 1); returns the product's name. */
function scaleBy(node: Node, ctx: AdaptContext, input: string, factor: number, tag: string): string {
  if (factor === 1) return input;
  const out = ctx.fresh(`${baseName(node)}_${tag}`);
  ctx.emit('before', { opType: 'Mul', inputs: [input, ctx.scalar(`${baseName(node)}_${tag}_k`, DataType.FLOAT, factor)!], outputs: [out] });
  return out;
}

function becomes(node: Node, opType: string, inputs: string[]): void {
  node.opType = opType;
  node.inputs = inputs;
  node.attributes = [];
}

const floatOnly = (node: Node, ctx: AdaptContext) =>
  ctx.elemType(node.inputs[0]!) === DataType.FLOAT ? undefined : `${node.opType} (removed at opset 10) on data that is not known to be float`;

export const experimentalAdapters: Adapter[] = [
  {
    op: 'ImageScaler', sinceVersion: 10,
    adapt(node, ctx) {
      const refusal = floatOnly(node, ctx);
      if (refusal) return refusal;
      const bias = node.getFloats('bias');
      const scaled = scaleBy(node, ctx, node.inputs[0]!, node.getFloat('scale', 1), 'scaled');
      if (!bias?.length) return becomes(node, 'Identity', [scaled]);
      // One bias per channel of NCHW data.
      const b = ctx.addConstant(`${baseName(node)}_bias`, DataType.FLOAT, [bias.length, 1, 1], Float32Array.from(bias));
      becomes(node, 'Add', [scaled, b]);
    },
  },
  {
    op: 'Affine', sinceVersion: 10,
    adapt(node, ctx) {
      const refusal = floatOnly(node, ctx);
      if (refusal) return refusal;
      const scaled = scaleBy(node, ctx, node.inputs[0]!, node.getFloat('alpha', 1), 'scaled');
      becomes(node, 'Add', [scaled, ctx.scalar(`${baseName(node)}_beta`, DataType.FLOAT, node.getFloat('beta', 0))!]);
    },
  },
  {
    op: 'Scale', sinceVersion: 10,
    adapt(node, ctx) {
      const refusal = floatOnly(node, ctx);
      if (refusal) return refusal;
      becomes(node, 'Mul', [node.inputs[0]!, ctx.scalar(`${baseName(node)}_scale`, DataType.FLOAT, node.getFloat('scale', 1))!]);
    },
  },
  // alpha * f(beta * x) for f = Tanh, Softplus.
  ...([['ScaledTanh', 'Tanh'], ['ParametricSoftplus', 'Softplus']] as const).map(([op, f]): Adapter => ({
    op, sinceVersion: 10,
    adapt(node, ctx) {
      const refusal = floatOnly(node, ctx);
      if (refusal) return refusal;
      const alpha = node.getFloat('alpha');
      const beta = node.getFloat('beta');
      if (alpha === undefined || beta === undefined) return `${op} without alpha and beta`;
      const inner = scaleBy(node, ctx, node.inputs[0]!, beta, 'inner');
      const out = node.outputs[0]!;
      const activated = ctx.fresh(`${baseName(node)}_${f.toLowerCase()}`);
      ctx.emit('before', { opType: f, inputs: [inner], outputs: [activated] });
      becomes(node, 'Mul', [activated, ctx.scalar(`${baseName(node)}_alpha`, DataType.FLOAT, alpha)!]);
      node.outputs = [out];
    },
  })),
  {
    // MVN-1 normalized per sample and channel (or per sample across channels); MVN-9 says that with axes.
    op: 'MeanVarianceNormalization', sinceVersion: 9,
    adapt(node) {
      if (node.getInt('normalize_variance', 1) === 0) return 'MeanVarianceNormalization-1 with normalize_variance=0';
      const across = node.getInt('across_channels', 0) === 1;
      node.removeAttr('normalize_variance');
      node.removeAttr('across_channels');
      if (!node.attr('axes')) node.setAttr(attr.ints('axes', across ? [1, 2, 3] : [2, 3]));
    },
  },
  ...forOps(['Crop', 'GivenTensorFill', 'ConstantFill', 'DynamicSlice', 'GRUUnit', 'ATen'], 10,
    (node) => `${node.opType} was an experimental op, removed at opset 10`),
];
