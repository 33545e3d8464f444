// Upsample -> Resize and Resize's own changes. Upsample-7 took scales as an attribute,
// Upsample-9 as an input; Upsample was deprecated at 10 for Resize-10, which means the
// same. Resize-11 added coordinate modes: the old behaviour is 'asymmetric' coordinates,
// and for nearest, the runtime's old rounding (floor when upsampling, ceil when
// downsampling) becomes one nearest_mode when every scale is on the same side of 1
// (else the indices are gathered, resize-gather.ts).
import { attr } from '../../../ir/graph.js';
import { DataType } from '../../../ir/dtype.js';
import type { Adapter } from '../adapter.js';
import { baseName, setInput } from './inputs.js';
import { nearestByGather } from './resize-gather.js';

/** Nodes that were Upsample: their scales are >= 1 by specification even when not constant. */
const fromUpsample = new WeakSet<object>();

export const resizeAdapters: Adapter[] = [
  {
    // Upsample-1 (experimental): height_scale, width_scale on NCHW, 'bilinear'.
    op: 'Upsample', sinceVersion: 7,
    adapt(node) {
      const h = node.getFloat('height_scale');
      const w = node.getFloat('width_scale');
      if (h === undefined || w === undefined) return;
      node.removeAttr('height_scale');
      node.removeAttr('width_scale');
      node.setAttr(attr.floats('scales', [1, 1, h, w]));
      if (node.getString('mode') === 'bilinear') node.setAttr(attr.string('mode', 'linear'));
    },
  },
  {
    op: 'Upsample', sinceVersion: 9,
    adapt(node, ctx) {
      const scales = node.getFloats('scales');
      if (!scales) return 'Upsample without scales';
      node.removeAttr('scales');
      setInput(node, 1, ctx.floats(`${baseName(node)}_scales`, scales));
    },
  },
  {
    op: 'Upsample', sinceVersion: 10,
    adapt(node) {
      node.opType = 'Resize';
      fromUpsample.add(node);
    },
  },
  {
    op: 'Resize', sinceVersion: 11,
    adapt(node, ctx) {
      const mode = node.getString('mode', 'nearest');
      node.setAttr(attr.string('coordinate_transformation_mode', 'asymmetric'));
      if (mode === 'nearest') {
        const scales = ctx.constant(node.inputs[1] ?? '')?.toFloat32();
        const up = scales ? scales.every((s) => s >= 1) : fromUpsample.has(node);
        const down = scales ? scales.every((s) => s <= 1) : false;
        if (!up && !down) return nearestByGather(node, ctx);
        node.setAttr(attr.string('nearest_mode', up ? 'floor' : 'ceil'));
      }
      // roi is a required input of Resize-11 (read only by tf_crop_and_resize): an empty one.
      const roi = ctx.addConstant(`${baseName(node)}_roi`, DataType.FLOAT, [0], new Float32Array(0));
      node.inputs = [node.inputs[0]!, roi, node.inputs[1]!];
    },
  },
  {
    op: 'Resize', sinceVersion: 13,
    adapt(node) {
      if (node.getString('coordinate_transformation_mode') !== 'tf_half_pixel_for_nn') return;
      // tf_half_pixel_for_nn maps x to (x + 0.5) / scale, which is half_pixel's value + 0.5;
      // rounding v + 0.5 to nearest-prefer-floor is ceil(v), and floor(v + 0.5) is
      // round-half-up (prefer ceil). The other roundings of v + 0.5 have no equivalent.
      const equivalent: Record<string, string> = { round_prefer_floor: 'ceil', floor: 'round_prefer_ceil' };
      const mode = node.getString('nearest_mode', 'round_prefer_floor');
      if (node.getString('mode', 'nearest') !== 'nearest' || !equivalent[mode]) {
        return `coordinate_transformation_mode 'tf_half_pixel_for_nn' (removed at opset 13) with nearest_mode '${mode}'`;
      }
      node.setAttr(attr.string('coordinate_transformation_mode', 'half_pixel'));
      node.setAttr(attr.string('nearest_mode', equivalent[mode]));
    },
  },
];
