// Changes of layout, name or default: Scan-8's batch axis (9), Scatter's new name (11),
// and the ops whose defaults or parameter layout moved at 16, 20 and 21.
import { attr } from '../../../ir/graph.js';
import { DataType } from '../../../ir/dtype.js';
import { Tensor } from '../../../ir/tensor.js';
import type { Adapter } from '../adapter.js';
import { baseName, emitAxesOp, setInput } from './inputs.js';

export const laterAdapters: Adapter[] = [
  {
    // Scan-8 ran its body over a batch axis 0 of every input; Scan-9 has no batch axis.
    // A batch of one is squeezed away and restored on the outputs; the body is unchanged.
    op: 'Scan', sinceVersion: 9,
    adapt(node, ctx) {
      if (node.inputs[0]) return 'Scan-8 with sequence_lens';
      const inputs = node.inputs.slice(1);
      const batch = inputs.map((i) => ctx.dims(i)?.[0]);
      if (batch.some((b) => b !== 1)) return `Scan-8 over a batch of ${batch.find((b) => b !== 1) ?? 'unknown size'} (Scan-9 has no batch axis)`;
      const directions = node.getInts('directions');
      node.removeAttr('directions');
      if (directions) node.setAttr(attr.ints('scan_input_directions', directions));
      node.inputs = inputs.map((i) => {
        const squeezed = ctx.fresh(`${i}_unbatched`);
        emitAxesOp(ctx, 'before', 'Squeeze', i, squeezed, [0]);
        return squeezed;
      });
      node.outputs = node.outputs.map((o) => {
        if (!o) return o;
        const unbatched = ctx.fresh(`${o}_unbatched`);
        emitAxesOp(ctx, 'after', 'Unsqueeze', unbatched, o, [0]);
        return unbatched;
      });
    },
  },
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
