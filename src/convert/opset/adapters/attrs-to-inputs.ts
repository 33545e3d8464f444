// Attributes that became inputs, where the values carry over unchanged: Slice 10, TopK 10,
// Squeeze/Unsqueeze/ReduceSum 13, the other reductions 18, Split 13 and 18.
import { attr } from '../../../ir/graph.js';
import { type Adapter, forOps } from '../adapter.js';
import { baseName, intsAttrToInput, setInput } from './inputs.js';

const REDUCTIONS_18 = ['ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceMax', 'ReduceMean', 'ReduceMin', 'ReduceProd', 'ReduceSumSquare'];

export const attrsToInputs: Adapter[] = [
  {
    op: 'Slice', sinceVersion: 10,
    adapt(node, ctx) {
      if (!node.attr('starts') || !node.attr('ends')) return 'Slice without starts or ends';
      intsAttrToInput(node, ctx, 'starts', 1);
      intsAttrToInput(node, ctx, 'ends', 2);
      intsAttrToInput(node, ctx, 'axes', 3);
    },
  },
  {
    op: 'TopK', sinceVersion: 10,
    adapt(node, ctx) {
      const k = node.attr('k')?.i;
      if (k === undefined) return 'TopK without k';
      node.removeAttr('k');
      setInput(node, 1, ctx.ints(`${baseName(node)}_k`, [k]));
    },
  },
  // Absent axes keep their meaning: squeeze every 1, reduce over every axis.
  ...forOps(['Squeeze', 'Unsqueeze', 'ReduceSum'], 13, (node, ctx) => intsAttrToInput(node, ctx, 'axes', 1)),
  ...forOps(REDUCTIONS_18, 18, (node, ctx) => intsAttrToInput(node, ctx, 'axes', 1)),
  { op: 'Split', sinceVersion: 13, adapt: (node, ctx) => intsAttrToInput(node, ctx, 'split', 1) },
  {
    // From 18 an equal split must say into how many parts.
    op: 'Split', sinceVersion: 18,
    adapt(node) {
      if (!node.inputs[1] && !node.attr('num_outputs')) node.setAttr(attr.int('num_outputs', node.outputs.length));
    },
  },
];
