// Slices: which group each sample belongs to (device type, region, source...), read from a
// JSON {sample: slice} map or CSV lines 'sample,slice'. Samples the file does not name belong
// to no slice; a name the file gives that matches no sample is a mistake the user must see
// (a renamed folder would otherwise make every slice silently empty).
import { existsSync, readdirSync } from 'node:fs';
import { badInput } from '../errors.js';
import { keyFor, readText } from './labels.js';

/**
 * The slice of each sample id (undefined: in no slice). `dataDir` is the samples folder: a name
 * not among `ids` is still fine when the folder has it (only some samples were read, --samples).
 */
export function loadSlices(file: string, ids: readonly string[], dataDir?: string): (string | undefined)[] {
  const text = readText(file, 'slices');
  const map = new Map<string, string>();
  if (file.toLowerCase().endsWith('.json')) {
    let value: unknown;
    try { value = JSON.parse(text); } catch (err) { throw badInput(`${file}: not valid JSON (${(err as Error).message})`); }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badInput(`${file}: expected a JSON object {sample: slice name}`);
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== 'string' || !v) throw badInput(`${file}: slice of '${k}' must be a non-empty string`);
      map.set(k, v);
    }
  } else {
    text.split(/\r?\n/).forEach((line, i) => {
      if (!line.trim()) return;
      const cut = line.indexOf(',');
      const [id, slice] = cut < 0 ? [line.trim(), ''] : [line.slice(0, cut).trim(), line.slice(cut + 1).trim()];
      if (!slice) throw badInput(`${file}:${i + 1}: expected 'sample,slice'`);
      map.set(id, slice);
    });
  }
  const known = new Set<string>();
  const stem = (id: string) => id.replace(/\.[^.]+$/, '');
  const slices = ids.map((id) => {
    const key = keyFor((k) => map.has(k), id);
    if (key !== undefined) known.add(key);
    return key === undefined ? undefined : map.get(key);
  });
  const inFolder = new Set(dataDir && existsSync(dataDir) ? readdirSync(dataDir).flatMap((e) => [e, stem(e)]) : []);
  const unknown = [...map.keys()].filter((k) => !known.has(k) && !inFolder.has(k));
  // The header line of a CSV ('sample,slice') names no sample; everything else must.
  const stray = unknown.filter((k, i) => !(i === 0 && !file.toLowerCase().endsWith('.json') && text.trimStart().startsWith(k)));
  if (stray.length) throw badInput(`${file}: names ${stray.length} sample(s) not in the data, e.g. '${stray[0]}'`);
  if (!slices.some((s) => s !== undefined)) throw badInput(`${file}: names none of the ${ids.length} samples`);
  return slices;
}
