// The shape each input is read or generated at. A dim is fixed by the model (a number), by
// the user (a size for a symbolic name, or the whole shape of an input), or left free: then
// the data decides (an image keeps its own height and width), and generated data uses 1.
import { badInput } from '../errors.js';
import type { Sample, InputSpec } from './samples.js';

export interface ShapeOverrides {
  /** Sizes by symbolic dim name (batch=1); an input's name sets each of its unnamed free dims. */
  dimOverrides?: Record<string, number>;
  /** Whole shapes by input name. */
  shapeOverrides?: Record<string, number[]>;
}

const isFree = (d: number | string) => typeof d === 'string' || d < 0;

/** The model's dims with the user's sizes applied; undefined where neither fixes the size. */
export function wantedDims(spec: InputSpec, o: ShapeOverrides = {}): (number | undefined)[] {
  const shape = o.shapeOverrides?.[spec.name];
  if (shape) {
    const fits = shape.length === spec.dims.length && shape.every((d, i) => isFree(spec.dims[i]!) || d === spec.dims[i]);
    if (!fits) throw badInput(`input '${spec.name}': shape [${shape.join(', ')}] does not fit the model's [${spec.dims.join(', ')}]`);
    return shape;
  }
  const dims = o.dimOverrides ?? {};
  return spec.dims.map((d) => (!isFree(d) ? (d as number) : typeof d === 'string' && dims[d] !== undefined ? dims[d] : dims[spec.name]));
}

/** The wanted dims as text, naming the dims that are still free: [p2o.DynamicDimension.0, 3, 48, 192]. */
export function formatWanted(spec: InputSpec, o: ShapeOverrides = {}): string {
  return `[${wantedDims(spec, o).map((d, i) => d ?? (spec.dims[i] === -1 ? '?' : spec.dims[i])).join(', ')}]`;
}

/** Refuses sizes for dims or inputs the model does not have: a typo would otherwise be ignored. */
export function checkOverrides(specs: InputSpec[], o: ShapeOverrides): void {
  const inputs = specs.map((s) => s.name);
  for (const name of Object.keys(o.shapeOverrides ?? {})) {
    if (!inputs.includes(name)) throw badInput(`shape given for '${name}', which is not an input of the model (inputs: ${inputs.join(', ')})`);
  }
  const symbols = [...new Set(specs.flatMap((s) => s.dims.filter((d): d is string => typeof d === 'string')))];
  for (const name of Object.keys(o.dimOverrides ?? {})) {
    if (!symbols.includes(name) && !inputs.includes(name)) {
      throw badInput(`size given for dim '${name}', which the model does not have (symbolic dims: ${symbols.join(', ') || 'none'}; inputs: ${inputs.join(', ')})`);
    }
  }
}

/**
 * Free dims that generated inputs set to 1, past the leading (batch) dim: a model
 * run on 1x1 images or one-step sequences measures nothing a user cares about.
 */
export function dimsDefaultedToOne(spec: InputSpec, o: ShapeOverrides = {}): string[] {
  return wantedDims(spec, o).flatMap((d, i) => (d === undefined && i > 0 ? [dimLabel(spec.dims[i], i)] : []));
}

/** A free dim as a user can name it: its symbol, or its position when the model left it unnamed. */
function dimLabel(d: unknown, axis: number): string {
  return typeof d === 'string' && d ? d : `at axis ${axis} (unnamed)`;
}

/** One line per run: the shape each input is fed at ('48..320' where samples differ). */
export function describeInputShapes(specs: InputSpec[], samples: Sample[]): string {
  return specs.map((spec) => {
    const shapes = samples.map((s) => s[spec.name]?.dims ?? []);
    const rank = Math.max(0, ...shapes.map((d) => d.length));
    const dims = Array.from({ length: rank }, (_, i) => {
      const sizes = shapes.map((d) => d[i]!);
      const lo = Math.min(...sizes), hi = Math.max(...sizes);
      return lo === hi ? String(lo) : `${lo}..${hi}`;
    });
    const symbolic = spec.dims.some(isFree) ? ` (model [${spec.dims.map((d) => ((typeof d === 'string' && d) || (typeof d === 'number' && d >= 0) ? String(d) : '?')).join(', ')}])` : '';
    return `${spec.name} [${dims.join(', ')}]${symbolic}`;
  }).join(', ');
}
