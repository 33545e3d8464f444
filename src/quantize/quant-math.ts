// Linear quantization arithmetic: q = saturate(round(x / scale) + zeroPoint), following
// ONNX QuantizeLinear (round half to even). Loops are plain typed-array passes so that
// weight conversion runs at hundreds of millions of values per second.
import { DataType } from '../ir/dtype.js';

export type QType = 'int8' | 'uint8' | 'int16' | 'uint16';

/** The 16-bit types (QuantizeLinear/DequantizeLinear take them from opset 21). */
export function isWide(type: QType): boolean {
  return type === 'int16' || type === 'uint16';
}

/** An array of `n` values of the quantized type. */
/** The ONNX element type code of a quantized type. */
export function quantizedDataType(type: QType): number {
  return { int8: DataType.INT8, uint8: DataType.UINT8, int16: DataType.INT16, uint16: DataType.UINT16 }[type];
}

/** The quantized type of an ONNX element type code, or undefined for any other type. */
export function quantizedTypeOf(dataType: number): QType | undefined {
  return ({ [DataType.INT8]: 'int8', [DataType.UINT8]: 'uint8', [DataType.INT16]: 'int16', [DataType.UINT16]: 'uint16' } as Record<number, QType>)[dataType];
}

export function quantizedArray(type: QType, n: number): Int8Array | Uint8Array | Int16Array | Uint16Array {
  return type === 'int8' ? new Int8Array(n) : type === 'uint8' ? new Uint8Array(n) : type === 'int16' ? new Int16Array(n) : new Uint16Array(n);
}

const ROUND_MAGIC = 6755399441055744; // 1.5 * 2^52

export interface QParams { scale: number; zeroPoint: number }

export interface QuantOptions {
  type: QType;
  symmetric: boolean;
  /** Use 7 bits (onnxruntime's reduce_range, for CPUs whose int8 dot products can overflow). */
  reduceRange?: boolean;
}

export function qRange(type: QType, reduceRange = false): [number, number] {
  if (type === 'int8') return reduceRange ? [-64, 63] : [-128, 127];
  if (type === 'uint8') return reduceRange ? [0, 127] : [0, 255];
  if (type === 'int16') return [-32768, 32767];
  return [0, 65535];
}

/** Scale and zero point mapping [min, max] (always widened to include 0) onto the type's range. */
export function qParams(min: number, max: number, o: QuantOptions): QParams {
  let lo = Math.min(min, 0);
  let hi = Math.max(max, 0);
  const [qmin, qmax] = qRange(o.type, o.reduceRange);
  if (o.symmetric) {
    const absMax = Math.max(Math.abs(lo), Math.abs(hi));
    lo = -absMax;
    hi = absMax;
  }
  if (hi === lo) return { scale: 1, zeroPoint: o.symmetric && (o.type === 'uint8' || o.type === 'uint16') ? (qRange(o.type)[1] + 1) / 2 : 0 };
  if (o.symmetric) {
    const scale = (2 * hi) / (qmax - qmin);
    const zeroPoint = o.type === 'int8' || o.type === 'int16' ? 0 : Math.round((qmax + qmin + 1) / 2);
    return { scale, zeroPoint };
  }
  const scale = (hi - lo) / (qmax - qmin);
  const zeroPoint = Math.round(Math.min(qmax, Math.max(qmin, qmin - lo / scale)));
  return { scale, zeroPoint };
}

/** Round half to even, as QuantizeLinear does. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface QuantizedWeights {
  values: Int8Array | Uint8Array | Int16Array | Uint16Array;
  scales: Float32Array;
  zeroPoints: Int8Array | Uint8Array | Int16Array | Uint16Array;
}

/**
 * Quantizes `w` (shape `dims`) per tensor (axis undefined) or per slice along `axis`.
 */
export function quantizeWeights(w: Float32Array, dims: number[], o: QuantOptions, axis?: number): QuantizedWeights {
  const channels = axis === undefined ? 1 : dims[axis]!;
  const inner = axis === undefined ? w.length : dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = axis === undefined ? 1 : dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const mins = new Float64Array(channels).fill(Infinity);
  const maxs = new Float64Array(channels).fill(-Infinity);
  for (let o1 = 0; o1 < outer; o1++) {
    for (let c = 0; c < channels; c++) {
      const base = (o1 * channels + c) * inner;
      let lo = mins[c]!, hi = maxs[c]!;
      for (let k = 0; k < inner; k++) {
        const v = w[base + k]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      mins[c] = lo;
      maxs[c] = hi;
    }
  }
  const scales = new Float32Array(channels);
  const zps = quantizedArray(o.type, channels);
  for (let c = 0; c < channels; c++) {
    const p = qParams(Number.isFinite(mins[c]!) ? mins[c]! : 0, Number.isFinite(maxs[c]!) ? maxs[c]! : 0, o);
    scales[c] = p.scale;
    zps[c] = p.zeroPoint;
  }
  const values = quantizedArray(o.type, w.length);
  const [qmin, qmax] = qRange(o.type, o.reduceRange);
  for (let o1 = 0; o1 < outer; o1++) {
    for (let c = 0; c < channels; c++) {
      const base = (o1 * channels + c) * inner;
      // Divide by the float32 scale that will be stored, so dequantization matches exactly.
      const inv = 1 / scales[c]!;
      const zp = zps[c]!;
      for (let k = 0; k < inner; k++) {
        // Adding and removing 1.5 * 2^52 rounds a double half-to-even, as QuantizeLinear does.
        const q = w[base + k]! * inv + ROUND_MAGIC - ROUND_MAGIC + zp;
        values[base + k] = q < qmin ? qmin : q > qmax ? qmax : q;
      }
    }
  }
  return { values, scales, zeroPoints: zps };
}

/** Bias for integer kernels: int32 with scale = inputScale * weightScale[c], zero point 0. */
export function quantizeBias(bias: Float32Array, inputScale: number, weightScales: Float32Array): { values: Int32Array; scales: Float32Array } {
  const scales = new Float32Array(bias.length);
  const values = new Int32Array(bias.length);
  for (let c = 0; c < bias.length; c++) {
    const s = Math.fround(inputScale * weightScales[weightScales.length === 1 ? 0 : c]!);
    scales[c] = s;
    values[c] = s === 0 ? 0 : Math.max(-2147483648, Math.min(2147483647, Math.round(bias[c]! / s)));
  }
  return { values, scales };
}
