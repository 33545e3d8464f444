// Dropout: is_test went at 7, the mask became bool at 10, ratio became an input at 12.
// Outside training Dropout is the identity; a Dropout that trained cannot be carried.
import { DataType } from '../../../ir/dtype.js';
import type { Node } from '../../../ir/graph.js';
import type { Adapter } from '../adapter.js';
import type { AdaptContext } from '../context.js';
import { baseName, setInput } from './inputs.js';

function maskRead(node: Node, ctx: AdaptContext): string | undefined {
  const mask = node.outputs[1];
  return mask && ctx.isUsed(mask) ? 'the Dropout mask is read, and its inference value changed at opset 12 (zeros before, ones after)' : undefined;
}

export const dropoutAdapters: Adapter[] = [
  {
    // The inference mask was never specified before 12 (onnxruntime gives zeros at 7-11,
    // ones from 12, as the spec then says): a model that reads it has no exact new form.
    op: 'Dropout', sinceVersion: 10,
    adapt(node, ctx) {
      const refusal = maskRead(node, ctx);
      if (refusal) return refusal;
      node.outputs = [node.outputs[0]!];
    },
  },
  {
    op: 'Dropout', sinceVersion: 12,
    adapt(node, ctx) {
      const refusal = maskRead(node, ctx);
      if (refusal) return refusal;
      const ratio = node.getFloat('ratio');
      node.removeAttr('ratio');
      if (ratio !== undefined) setInput(node, 1, ctx.scalar(`${baseName(node)}_ratio`, DataType.FLOAT, ratio)!);
    },
  },
];
