// Softmax, LogSoftmax and Hardmax at 13. Before, they coerced the input to 2-D at `axis`
// (default 1) and normalized each row; from 13 they normalize along one axis (default
// -1). On the last axis the two agree; elsewhere the old meaning is kept exactly by
// flattening at `axis`, normalizing the last axis and reshaping back.
import { attr } from '../../../ir/graph.js';
import { forOps } from '../adapter.js';
import { baseName } from './inputs.js';

export const softmaxAdapters = forOps(['Softmax', 'LogSoftmax', 'Hardmax'], 13, (node, ctx) => {
  const x = node.inputs[0]!;
  const axis = node.getInt('axis', 1);
  const rank = ctx.rank(x);
  if (axis === -1 || (rank !== undefined && (axis < 0 ? axis + rank : axis) === rank - 1)) {
    node.setAttr(attr.int('axis', -1));
    return;
  }
  const base = baseName(node);
  const flat = ctx.fresh(`${base}_2d`);
  const shape = ctx.fresh(`${base}_shape`);
  ctx.emit('before', { opType: 'Flatten', inputs: [x], outputs: [flat], attributes: [attr.int('axis', axis)] });
  ctx.emit('before', { opType: 'Shape', inputs: [x], outputs: [shape] });
  const out = node.outputs[0]!;
  const rows = ctx.fresh(`${base}_rows`);
  node.inputs[0] = flat;
  node.outputs[0] = rows;
  node.setAttr(attr.int('axis', 1));
  ctx.emit('after', { opType: 'Reshape', inputs: [rows, shape], outputs: [out] });
});
