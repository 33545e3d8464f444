// Nearest Resize-10 whose scales are only known at run time. Its old rounding depends on
// each scale (ceil when that axis shrinks, floor when it grows), which no single
// nearest_mode of Resize-11 says; the same indices are computed per axis instead
// (i / scale, rounded by the scale's side of 1, clamped to the last index) and gathered.
// Every step is the float arithmetic the runtime did, so the result is the same.
import { attr, type Node } from '../../../ir/graph.js';
import { DataType } from '../../../ir/dtype.js';
import type { AdaptContext } from '../context.js';
import { baseName } from './inputs.js';

export function nearestByGather(node: Node, ctx: AdaptContext): string | void {
  const [x, scales] = node.inputs as [string, string];
  const scalesLength = ctx.dims(scales)?.[0];
  const rank = ctx.rank(x) ?? (typeof scalesLength === 'number' ? scalesLength : undefined);
  if (rank === undefined) return 'nearest Resize-10 with run-time scales on an input of unknown rank';
  const base = baseName(node);
  const step = (opType: string, inputs: string[], attributes = [] as ReturnType<typeof attr.int>[]) => {
    const out = ctx.fresh(`${base}_${opType.toLowerCase()}`);
    ctx.emit('before', { opType, inputs, outputs: [out], attributes });
    return out;
  };
  const toFloat = [attr.int('to', DataType.FLOAT)];
  const toInt = [attr.int('to', DataType.INT64)];
  const zero = ctx.scalar(`${base}_zero`, DataType.INT64, 0)!;
  const one = ctx.scalar(`${base}_one`, DataType.INT64, 1)!;
  const oneF = ctx.scalar(`${base}_one_f`, DataType.FLOAT, 1)!;
  const shape = step('Shape', [x]);
  let current = x;
  for (let axis = 0; axis < rank; axis++) {
    const at = ctx.scalar(`${base}_axis${axis}`, DataType.INT64, axis)!;
    const scale = step('Gather', [scales, at]);
    const length = step('Gather', [shape, at]);
    const lengthF = step('Cast', [length], toFloat);
    const outLength = step('Cast', [step('Floor', [step('Mul', [lengthF, scale])])], toInt);
    const position = step('Div', [step('Cast', [step('Range', [zero, outLength, one])], toFloat), scale]);
    const rounded = step('Where', [step('Less', [scale, oneF]), step('Ceil', [position]), step('Floor', [position])]);
    const lastF = step('Cast', [step('Sub', [length, one])], toFloat);
    const index = step('Cast', [step('Min', [rounded, lastF])], toInt);
    if (axis === rank - 1) {
      node.opType = 'Gather';
      node.inputs = [current, index];
      node.attributes = [attr.int('axis', axis)];
    } else {
      current = step('Gather', [current, index], [attr.int('axis', axis)]);
    }
  }
}
