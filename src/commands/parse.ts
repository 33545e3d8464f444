// Flag value parsers shared by commands; each fails with a message naming the flag.
import { badInput } from '../errors.js';

export function parseByteCount(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw badInput(`${flag}: expected a whole number of bytes, got '${value}'`);
  return n;
}

export function parseNumber(flag: string, value: string, range?: { min?: number; max?: number }): number {
  const n = Number(value);
  if (!Number.isFinite(n) || (range?.min !== undefined && n < range.min) || (range?.max !== undefined && n > range.max)) {
    const bounds = range ? ` between ${range.min ?? '-inf'} and ${range.max ?? 'inf'}` : '';
    throw badInput(`${flag}: expected a number${bounds}, got '${value}'`);
  }
  return n;
}

export function parseList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}
