// Clip and Pad at 11: bounds and pads became inputs. Clip's bounds and Pad's fill value
// are typed like the data, so the data's element type must be known when they are set.
import { dataTypeName } from '../../../ir/dtype.js';
import type { Adapter } from '../adapter.js';
import { baseName, intsAttrToInput, setInput } from './inputs.js';

export const clipAndPad: Adapter[] = [
  {
    op: 'Clip', sinceVersion: 11,
    adapt(node, ctx) {
      const min = node.getFloat('min');
      const max = node.getFloat('max');
      node.removeAttr('min');
      node.removeAttr('max');
      if (min === undefined && max === undefined) return;
      const type = ctx.elemType(node.inputs[0]!);
      if (type === undefined) return 'Clip min/max must become inputs of the input\'s type, which is unknown';
      // An absent bound stays absent: Clip-11 then does not clip on that side.
      const bound = (v: number | undefined, which: string) => (v === undefined ? '' : ctx.scalar(`${baseName(node)}_${which}`, type, v));
      const lo = bound(min, 'min');
      const hi = bound(max, 'max');
      if (lo === undefined || hi === undefined) return `Clip on ${dataTypeName(type)} data`;
      setInput(node, 1, lo);
      setInput(node, 2, hi);
    },
  },
  {
    op: 'Pad', sinceVersion: 11,
    adapt(node, ctx) {
      if (!node.attr('pads')) return 'Pad without pads';
      const value = node.getFloat('value', 0);
      node.removeAttr('value');
      intsAttrToInput(node, ctx, 'pads', 1);
      if (value === 0) return; // the default fill of Pad-11 too
      const type = ctx.elemType(node.inputs[0]!);
      if (type === undefined) return 'Pad value must become an input of the data\'s type, which is unknown';
      const fill = ctx.scalar(`${baseName(node)}_value`, type, value);
      if (!fill) return `Pad on ${dataTypeName(type)} data`;
      setInput(node, 2, fill);
    },
  },
];
