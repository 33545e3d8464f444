// Symbolic dims as integer polynomials over dim names, so that exporter shape arithmetic
// (batch * seq, past + seq, hidden / heads) gives the same dim however it was computed.
// A Dim string is read as such a polynomial ("past_sequence_length + 1", "2*seq",
// "batch*seq"); a single name reads and renders as itself, so names from the file keep
// their spelling. A string the grammar does not cover (parentheses, spaces inside a name)
// is one opaque symbol: two such dims are equal only when spelled the same.
import type { Dim } from '../graph.js';

/** Monomial key (factor names joined by SEP, sorted; '' for the constant) -> coefficient. */
type Poly = Map<string, number>;

const SEP = '\u0001';
const NAME = /^[A-Za-z_][A-Za-z0-9_.:]*$/;

export function toPoly(d: Dim): Poly | undefined {
  if (d === null) return undefined;
  if (typeof d === 'number') return d === 0 ? new Map() : new Map([['', d]]);
  return parse(d) ?? new Map([[d, 1]]);
}

/** Renders a polynomial back as a Dim: a number when it is constant. */
export function fromPoly(p: Poly): Dim {
  const terms = [...p.entries()].filter(([, c]) => c !== 0);
  if (terms.length === 0) return 0;
  if (terms.length === 1 && terms[0]![0] === '') return terms[0]![1];
  // Higher degree first, then by name; the constant last: one spelling per polynomial.
  terms.sort(([a], [b]) => degree(b) - degree(a) || (a === '' ? 1 : b === '' ? -1 : a < b ? -1 : a > b ? 1 : 0));
  let out = '';
  terms.forEach(([key, c], i) => {
    const factors = key === '' ? [] : key.split(SEP);
    const mag = Math.abs(c);
    const body = factors.length === 0 ? String(mag) : (mag === 1 ? '' : `${mag}*`) + factors.join('*');
    out += i === 0 ? (c < 0 ? `-${body}` : body) : c < 0 ? ` - ${body}` : ` + ${body}`;
  });
  return out;
}

function degree(key: string): number {
  return key === '' ? 0 : key.split(SEP).length;
}

function parse(s: string): Poly | undefined {
  const tokens = s.replace(/\s+/g, '').split(/(?=[+-])/);
  const p: Poly = new Map();
  for (const raw of tokens) {
    if (!raw) return undefined;
    let sign = 1;
    let term = raw;
    if (term[0] === '+' || term[0] === '-') { sign = term[0] === '-' ? -1 : 1; term = term.slice(1); }
    let coeff = sign;
    const names: string[] = [];
    for (const f of term.split('*')) {
      if (/^\d+$/.test(f)) coeff *= Number(f);
      else if (NAME.test(f)) names.push(f);
      else return undefined;
    }
    addTerm(p, names.sort().join(SEP), coeff);
  }
  return p;
}

function addTerm(p: Poly, key: string, c: number): void {
  const v = (p.get(key) ?? 0) + c;
  if (v === 0) p.delete(key);
  else p.set(key, v);
}

function lift(a: Dim, b: Dim, f: (x: Poly, y: Poly) => Poly | undefined): Dim {
  const [x, y] = [toPoly(a), toPoly(b)];
  if (!x || !y) return null;
  const r = f(x, y);
  return r ? fromPoly(r) : null;
}

export function addDims(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  return lift(a, b, (x, y) => { const p = new Map(x); for (const [k, c] of y) addTerm(p, k, c); return p; });
}

export function subDims(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return lift(a, b, (x, y) => { const p = new Map(x); for (const [k, c] of y) addTerm(p, k, -c); return p; });
}

export function mulDims(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a * b;
  if (a === 0 || b === 0) return 0;
  return lift(a, b, (x, y) => {
    const p: Poly = new Map();
    for (const [ka, ca] of x) for (const [kb, cb] of y) addTerm(p, [...splitKey(ka), ...splitKey(kb)].sort().join(SEP), ca * cb);
    return p;
  });
}

/**
 * a / b for sizes (non-negative): exact when b divides a as polynomials; numbers truncate
 * like int64 Div. An inexact symbolic quotient is unknown (null).
 */
export function divDims(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return b === 0 ? null : Math.trunc(a / b);
  return lift(a, b, exactQuotient);
}

function exactQuotient(x: Poly, y: Poly): Poly | undefined {
  if (y.size === 1) {
    const [[key, c]] = [...y.entries()] as [[string, number]];
    const divisor = splitKey(key);
    const out: Poly = new Map();
    for (const [k, v] of x) {
      const factors = splitKey(k);
      for (const f of divisor) {
        const i = factors.indexOf(f);
        if (i < 0) return undefined;
        factors.splice(i, 1);
      }
      if (v % c !== 0) return undefined;
      addTerm(out, factors.join(SEP), v / c);
    }
    return out;
  }
  // A multiple of a multi-term divisor: (2*a + 2*b) / (a + b).
  let ratio: number | undefined;
  if (x.size !== y.size) return undefined;
  for (const [k, c] of y) {
    const v = x.get(k);
    if (v === undefined || v % c !== 0 || (ratio !== undefined && v / c !== ratio)) return undefined;
    ratio = v / c;
  }
  return new Map([['', ratio!]]);
}

function splitKey(key: string): string[] {
  return key === '' ? [] : key.split(SEP);
}

/** The product of dims, symbolic where needed; null when any is unknown. */
export function productDims(dims: Dim[]): Dim {
  let p: Dim = 1;
  for (const d of dims) {
    p = mulDims(p, d);
    if (p === null) return null;
  }
  return p;
}

/** Two dims known to be equal (same number or same polynomial). */
export function sameDim(a: Dim | undefined, b: Dim | undefined): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return false;
  if (a === b) return true;
  return subDims(a, b) === 0;
}

/** True when `d` cannot be negative: a number >= 0, or a polynomial with no negative coefficient (dims are >= 0). */
export function nonNegative(d: Dim): boolean {
  const p = toPoly(d);
  return p !== undefined && [...p.values()].every((c) => c >= 0);
}

/** The size a dim takes when its names have these sizes; undefined when a name is unbound. */
export function evaluateDim(d: Dim, sizes: ReadonlyMap<string, number>): number | undefined {
  const p = toPoly(d);
  if (!p) return undefined;
  let total = 0;
  for (const [key, c] of p) {
    let term = c;
    for (const name of splitKey(key)) {
      const v = sizes.get(name);
      if (v === undefined) return undefined;
      term *= v;
    }
    total += term;
  }
  return total;
}
