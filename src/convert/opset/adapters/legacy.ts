// Changes up to opset 7, the era of pytorch-converted and early Caffe2 exports:
// consumed_inputs and is_test hints dropped, Cast's `to` made an int, defaults fixed.
import { attr, type Node } from '../../../ir/graph.js';
import { DataType } from '../../../ir/dtype.js';
import { type Adapter, forOps } from '../adapter.js';
import type { AdaptContext } from '../context.js';
import { baseName, intsAttrToInput, setInput } from './inputs.js';

// consumed_inputs was an in-place hint for the runtime, never part of the meaning.
const CONSUMED_INPUTS_6 = [
  'Abs', 'Add', 'BatchNormalization', 'Ceil', 'Clip', 'Div', 'Dropout', 'Elu', 'Exp', 'Floor', 'HardSigmoid',
  'InstanceNormalization', 'LeakyRelu', 'Log', 'Max', 'Mean', 'Min', 'Mul', 'Neg', 'PRelu', 'Reciprocal', 'Relu',
  'Selu', 'Sigmoid', 'Sqrt', 'Sub', 'Sum', 'Tanh',
];

export const legacyAdapters: Adapter[] = [
  { op: 'Concat', sinceVersion: 4, adapt: (n) => { if (!n.attr('axis')) n.setAttr(attr.int('axis', 1)); } },
  {
    op: 'Reshape', sinceVersion: 5,
    adapt(node, ctx) {
      node.removeAttr('consumed_inputs');
      if (!node.attr('shape')) return node.inputs[1] ? undefined : 'Reshape without a shape';
      intsAttrToInput(node, ctx, 'shape', 1);
    },
  },
  { op: 'Pad', sinceVersion: 2, adapt: (n) => renameAttr(n, 'paddings', 'pads') },
  {
    // Split-1 could take the split sizes as a second input; from 2 they are an attribute.
    op: 'Split', sinceVersion: 2,
    adapt(node, ctx) {
      const sizes = node.inputs[1];
      if (!sizes) return;
      const t = ctx.constant(sizes);
      if (!t) return 'Split-1 with split sizes that are not constant';
      node.setAttr(attr.ints('split', t.toNumbers()));
      setInput(node, 1, '');
    },
  },
  ...forOps(['LpPool', 'GlobalLpPool'], 2, (node) => {
    const p = node.getFloat('p');
    if (p === undefined || node.attr('p')?.i !== undefined) return;
    if (!Number.isInteger(p)) return `p=${p} is not an integer (p became an int at opset 2)`;
    node.setAttr(attr.int('p', p));
  }),
  ...forOps(CONSUMED_INPUTS_6, 6, (n) => n.removeAttr('consumed_inputs')),
  {
    // Selu's defaults were rounded differently before 6: keep the old values explicitly.
    op: 'Selu', sinceVersion: 6,
    adapt(node) {
      if (!node.attr('alpha')) node.setAttr(attr.float('alpha', 1.673200011253357));
      if (!node.attr('gamma')) node.setAttr(attr.float('gamma', 1.0506999492645264));
    },
  },
  {
    op: 'Cast', sinceVersion: 6,
    adapt(node) {
      const to = node.attr('to');
      if (!to?.s) return;
      const name = new TextDecoder().decode(to.s).toUpperCase();
      const code = (DataType as Record<string, number>)[name];
      if (code === undefined) return `Cast to '${name}', a type this converter does not know`;
      node.setAttr(attr.int('to', code));
    },
  },
  { op: 'Tile', sinceVersion: 6, adapt: () => 'Tile-1 (tiles and axis inputs) has no rewrite here' },
  ...forOps(['Dropout', 'BatchNormalization'], 7, (node) => {
    const isTest = node.getInt('is_test', 0);
    node.removeAttr('is_test');
    if (isTest === 0) return `${node.opType} in training mode (is_test=0) before opset 7`;
  }),
  ...forOps(['RNN', 'GRU', 'LSTM'], 7, (n) => n.removeAttr('output_sequence')),
  { op: 'Gemm', sinceVersion: 7, adapt: (n) => n.removeAttr('broadcast') },
  ...forOps(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'And', 'Or', 'Xor', 'Equal', 'Greater', 'Less'], 7, legacyBroadcast),
];

function renameAttr(node: Node, from: string, to: string): void {
  const a = node.attr(from);
  if (!a) return;
  node.removeAttr(from);
  node.setAttr({ ...a, name: to });
}

/**
 * Before 7, B broadcast onto A only with broadcast=1, aligned at `axis` (suffix-aligned
 * without one). Suffix alignment is numpy's; an `axis` elsewhere means B needs trailing
 * 1-dims, added by a Reshape whose 0s copy B's own dims.
 */
function legacyBroadcast(node: Node, ctx: AdaptContext): string | void {
  const broadcast = node.getInt('broadcast', 0);
  const axis = node.getInt('axis');
  node.removeAttr('broadcast');
  node.removeAttr('axis');
  if (broadcast !== 1 || axis === undefined) return;
  const [a, b] = node.inputs as [string, string];
  const rankA = ctx.rank(a);
  const rankB = ctx.rank(b);
  if (rankA === undefined || rankB === undefined) return `broadcast at axis ${axis} with operands of unknown rank`;
  const trailing = rankA - (axis < 0 ? axis + rankA : axis) - rankB;
  if (trailing < 0) return `broadcast at axis ${axis} does not fit a rank-${rankB} operand into rank ${rankA}`;
  if (trailing === 0) return;
  const shape = ctx.ints(`${baseName(node)}_bshape`, [...Array(rankB).fill(0), ...Array(trailing).fill(1)]);
  const reshaped = ctx.fresh(`${b}_aligned`);
  ctx.emit('before', { opType: 'Reshape', inputs: [b, shape], outputs: [reshaped] });
  node.inputs[1] = reshaped;
}
