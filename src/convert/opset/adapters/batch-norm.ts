// BatchNormalization: `spatial` went at 9, the training outputs changed at 14.
import type { Adapter } from '../adapter.js';
import { baseName } from './inputs.js';

export const batchNormAdapters: Adapter[] = [
  {
    // spatial=0 normalized each (C, D1..Dn) element with its own statistics: the
    // parameters have that shape and broadcast against X, so plain arithmetic says it.
    op: 'BatchNormalization', sinceVersion: 9,
    adapt(node, ctx) {
      const spatial = node.getInt('spatial', 1);
      node.removeAttr('spatial');
      if (spatial === 1) return;
      if (node.outputs.slice(1).some((o) => ctx.isUsed(o))) return 'BatchNormalization with spatial=0 in training mode';
      const [x, scale, bias, mean, variance] = node.inputs as [string, string, string, string, string];
      const type = ctx.elemType(x);
      const eps = type === undefined ? undefined : ctx.scalar(`${baseName(node)}_epsilon`, type, node.getFloat('epsilon', 1e-5));
      if (!eps) return 'BatchNormalization with spatial=0 on data of unknown type';
      const base = baseName(node);
      const v = (s: string) => ctx.fresh(`${base}_${s}`);
      const [centered, varEps, std, normed, scaled] = [v('centered'), v('var_eps'), v('std'), v('normed'), v('scaled')];
      ctx.emit('before', { opType: 'Sub', inputs: [x, mean], outputs: [centered] });
      ctx.emit('before', { opType: 'Add', inputs: [variance, eps], outputs: [varEps] });
      ctx.emit('before', { opType: 'Sqrt', inputs: [varEps], outputs: [std] });
      ctx.emit('before', { opType: 'Div', inputs: [centered, std], outputs: [normed] });
      ctx.emit('before', { opType: 'Mul', inputs: [normed, scale], outputs: [scaled] });
      node.opType = 'Add';
      node.inputs = [scaled, bias];
      node.outputs = [node.outputs[0]!];
      node.attributes = [];
    },
  },
  {
    // Opset 9-13 listed mean, var, saved_mean, saved_var outputs for training; 14 has
    // running_mean, running_var under training_mode. Unread ones are simply dropped.
    op: 'BatchNormalization', sinceVersion: 14,
    adapt(node, ctx) {
      if (node.outputs.slice(1).some((o) => ctx.isUsed(o))) return 'BatchNormalization whose training outputs are read';
      node.outputs = [node.outputs[0]!];
    },
  },
];
