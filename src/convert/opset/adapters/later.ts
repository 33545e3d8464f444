// Changes after 11 that rename or re-default: Scatter's new name, and the ops whose
// defaults or parameter layout moved at 16, 20 and 21.
import { attr } from '../../../ir/graph.js';
import { DataType } from '../../../ir/dtype.js';
import { Tensor } from '../../../ir/tensor.js';
import type { Adapter } from '../adapter.js';
import { baseName, setInput } from './inputs.js';

export const laterAdapters: Adapter[] = [
  { op: 'Scan', sinceVersion: 9, adapt: () => 'Scan-8 (batch axis and sequence_lens) has no rewrite here' },
  // Scatter-9 is ScatterElements-11 under its old name.
  { op: 'Scatter', sinceVersion: 11, adapt: (n) => { n.opType = 'ScatterElements'; } },
  {
    // The default became 'half_pixel'; before 16 RoiAlign behaved as 'output_half_pixel'.
    op: 'RoiAlign', sinceVersion: 16,
    adapt: (n) => { if (!n.attr('coordinate_transformation_mode')) n.setAttr(attr.string('coordinate_transformation_mode', 'output_half_pixel')); },
  },
  {
    op: 'GridSample', sinceVersion: 20,
    adapt(node) {
      const renamed: Record<string, string> = { bilinear: 'linear', bicubic: 'cubic' };
      const mode = node.getString('mode', 'bilinear');
      node.setAttr(attr.string('mode', renamed[mode] ?? mode));
    },
  },
  {
    // axis became an input at 20, with a new default (-2 instead of 1): always spell it.
    op: 'DFT', sinceVersion: 20,
    adapt(node, ctx) {
      const axis = node.getInt('axis', 1);
      node.removeAttr('axis');
      setInput(node, 2, ctx.addConstant(`${baseName(node)}_axis`, DataType.INT64, [], BigInt64Array.of(BigInt(axis))));
    },
  },
  {
    // GroupNormalization-18 scaled per group; 21 scales per channel: repeat each group's value.
    op: 'GroupNormalization', sinceVersion: 21,
    adapt(node, ctx) {
      const groups = node.getInt('num_groups');
      const channels = ctx.dims(node.inputs[0]!)?.[1];
      if (groups === undefined || typeof channels !== 'number') return 'GroupNormalization-18 on input with unknown channel count';
      for (const k of [1, 2]) {
        const t = ctx.constant(node.inputs[k]!);
        if (!t || t.dataType !== DataType.FLOAT) return 'GroupNormalization-18 with scale/bias that are not float constants';
        const perGroup = t.toFloat32();
        const perChannel = Float32Array.from({ length: channels }, (_, c) => perGroup[Math.floor(c / (channels / groups))]!);
        const name = ctx.fresh(`${t.name}_per_channel`);
        ctx.initializers.set(name, Tensor.fromFloat32(name, [channels], perChannel));
        node.inputs[k] = name;
      }
    },
  },
];
