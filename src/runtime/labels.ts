// Class labels for samples, read from a file the user wrote by hand or by script: every way
// it can be wrong is a one-line error naming the file and the entry, never a crash.
import { readFileSync } from 'node:fs';
import { badInput } from '../errors.js';

/**
 * Labels for samples, in sample order: a JSON array (the first entries label the samples,
 * in file order), a JSON object {id: label} (id with or without its extension), or, in any file
 * not ending in .json, CSV lines 'id,label' (a header line is allowed). A label is a class index: an integer >= 0.
 */
export function loadLabels(file: string, ids: string[]): number[] {
  const text = readText(file, 'labels');
  if (!file.toLowerCase().endsWith('.json')) return fromMap(file, ids, parseCsv(file, text));
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw badInput(`${file}: not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
  if (Array.isArray(value)) {
    if (value.length < ids.length) throw badInput(`${file}: holds ${value.length} labels for ${ids.length} samples`);
    return ids.map((id, i) => classIndex(file, value[i], `entry ${i} (sample '${id}')`));
  }
  if (typeof value === 'object' && value !== null) return fromMap(file, ids, value as Record<string, unknown>);
  throw badInput(`${file}: expected a JSON array of class indices or an object {"file": class}, found ${describe(value)}`);
}

/** A per-sample file's text, or one line saying why it cannot be read. */
export function readText(file: string, what: 'labels' | 'slices'): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw badInput(code === 'ENOENT' ? `${file}: ${what} file is missing` : `${file}: ${what} file cannot be read (${code ?? (err as Error).message})`);
  }
}

/** The key a per-sample map uses for a sample: its file name, or the name without its extension. */
export function keyFor(has: (key: string) => boolean, id: string): string | undefined {
  if (has(id)) return id;
  const stem = id.replace(/\.[^.]+$/, '');
  return has(stem) ? stem : undefined;
}

function fromMap(file: string, ids: string[], map: Record<string, unknown>): number[] {
  return ids.map((id) => {
    const key = keyFor((k) => Object.hasOwn(map, k), id);
    if (key === undefined) throw badInput(`${file}: no label for sample '${id}'`);
    return classIndex(file, map[key], `the label of '${id}'`);
  });
}

function parseCsv(file: string, text: string): Record<string, string> {
  const map: Record<string, string> = {};
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    const cells = line.split(',').map((s) => s.trim());
    const isHeader = i === 0 && cells.length === 2 && !/^-?\d+$/.test(cells[1]!);
    if (isHeader) return;
    if (cells.length !== 2 || !cells[0]) throw badInput(`${file}: line ${i + 1}: expected 'file,label', found '${line.slice(0, 60)}'`);
    map[cells[0]] = cells[1]!;
  });
  return map;
}

function classIndex(file: string, v: unknown, where: string): number {
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) return n;
  throw badInput(`${file}: ${where} is ${describe(v)}, expected a class index (an integer >= 0)`);
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return JSON.stringify(v).slice(0, 40);
}
