// Bit-level conversions between float32 and the small float formats ONNX stores.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function float16ToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * float16 data from onnxruntime as float32: its bits in a Uint16Array, or, on a runtime with
 * Float16Array, the values themselves.
 */
export function float16DataToFloat32(data: unknown): Float32Array {
  return data instanceof Uint16Array ? Float32Array.from(data, float16ToFloat32) : Float32Array.from(data as ArrayLike<number>);
}

/** Round-to-nearest-even float32 -> float16 bits; out-of-range values become +-Infinity. */
export function float32ToFloat16(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    if (rem > half || (rem === half && (r & 1))) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (r & 1))) r++;
  return sign | r;
}

export function bfloat16ToFloat32(b: number): number {
  u32[0] = b << 16;
  return f32[0]!;
}

export function float32ToBfloat16(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  if (Number.isNaN(value)) return 0x7fc0;
  const rounding = 0x7fff + ((x >>> 16) & 1);
  return ((x + rounding) >>> 16) & 0xffff;
}

/** Decodes an 8-bit float with the given exponent/mantissa split; fnuz/fn variants per the ONNX spec. */
export function float8ToFloat32(byte: number, kind: 'e4m3fn' | 'e4m3fnuz' | 'e5m2' | 'e5m2fnuz' | 'e8m0'): number {
  if (kind === 'e8m0') return byte === 0xff ? NaN : 2 ** (byte - 127);
  const expBits = kind.startsWith('e4') ? 4 : 5;
  const mantBits = 7 - expBits;
  const uz = kind.endsWith('fnuz');
  const bias = (1 << (expBits - 1)) - 1 + (uz ? 1 : 0);
  const sign = byte & 0x80 ? -1 : 1;
  const exp = (byte >> mantBits) & ((1 << expBits) - 1);
  const mant = byte & ((1 << mantBits) - 1);
  if (uz && byte === 0x80) return NaN;
  if (kind === 'e4m3fn' && (byte & 0x7f) === 0x7f) return NaN;
  if (kind === 'e5m2' && exp === 31) return mant ? NaN : sign * Infinity;
  if (exp === 0) return sign * mant * 2 ** (1 - bias - mantBits);
  return sign * (1 + mant / (1 << mantBits)) * 2 ** (exp - bias);
}

const FLOAT4_VALUES = [0, 0.5, 1, 1.5, 2, 3, 4, 6];
export function float4e2m1ToFloat32(nibble: number): number {
  const v = FLOAT4_VALUES[nibble & 7]!;
  return nibble & 8 ? -v : v;
}
