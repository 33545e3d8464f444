// Dropout: is_test went at 7, the mask became bool at 10, ratio became an input at 12.
// Outside training Dropout is the identity; a Dropout that trained cannot be carried.
import { attr } from '../../../ir/graph.js';
import { DataType } from '../../../ir/dtype.js';
import type { Adapter } from '../adapter.js';
import { baseName, setInput } from './inputs.js';

export const dropoutAdapters: Adapter[] = [
  {
    op: 'Dropout', sinceVersion: 10,
    adapt(node, ctx) {
      const mask = node.outputs[1];
      if (!mask) return;
      if (!ctx.isUsed(mask)) { node.outputs = [node.outputs[0]!]; return; }
      const type = ctx.elemType(node.inputs[0]!);
      if (type === undefined) return 'Dropout mask became bool at opset 10 and the data type is unknown';
      const bool = ctx.fresh(`${baseName(node)}_mask`);
      node.outputs[1] = bool;
      ctx.emit('after', { opType: 'Cast', inputs: [bool], outputs: [mask], attributes: [attr.int('to', type)] });
    },
  },
  {
    op: 'Dropout', sinceVersion: 12,
    adapt(node, ctx) {
      const ratio = node.getFloat('ratio');
      node.removeAttr('ratio');
      if (ratio !== undefined) setInput(node, 1, ctx.scalar(`${baseName(node)}_ratio`, DataType.FLOAT, ratio)!);
    },
  },
];
