// ONNX tensor element types: names, sizes, and the runtime's names for them.
export const DataType = {
  UNDEFINED: 0, FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8,
  BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15,
  BFLOAT16: 16, FLOAT8E4M3FN: 17, FLOAT8E4M3FNUZ: 18, FLOAT8E5M2: 19, FLOAT8E5M2FNUZ: 20,
  UINT4: 21, INT4: 22, FLOAT4E2M1: 23, FLOAT8E8M0: 24, UINT2: 25, INT2: 26,
} as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/**
 * Float weights a pass may rewrite through float32 and store back in their own type: float,
 * and the half types, which float32 holds exactly (double it would round).
 */
export function isWeightFloat(code: number): boolean {
  return code === DataType.FLOAT || code === DataType.FLOAT16 || code === DataType.BFLOAT16;
}

const NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(DataType).map(([k, v]) => [v, k.toLowerCase()]),
);

/** 'float', 'int64', ... or 'dtype(99)' for a code this build does not know. */
export function dataTypeName(code: number): string {
  return NAMES[code] ?? `dtype(${code})`;
}

const BITS: Record<number, number> = {
  1: 32, 2: 8, 3: 8, 4: 16, 5: 16, 6: 32, 7: 64, 9: 8, 10: 16, 11: 64, 12: 32, 13: 64,
  14: 64, 15: 128, 16: 16, 17: 8, 18: 8, 19: 8, 20: 8, 21: 4, 22: 4, 23: 4, 24: 8, 25: 2, 26: 2,
};

/** Bits per element, or undefined for strings and unknown codes. */
export function bitsPerElement(code: number): number | undefined {
  return BITS[code];
}

/** Bytes needed to store `count` elements packed as ONNX raw_data does (sub-byte types pack). */
export function rawByteLength(code: number, count: number): number | undefined {
  const bits = BITS[code];
  if (bits === undefined) return undefined;
  return Math.ceil((count * bits) / 8);
}

/** onnxruntime-common's tensor type names. */
const ORT_NAMES: Record<number, string> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string',
  9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 21: 'uint4', 22: 'int4',
};

export function ortTypeName(code: number): string | undefined {
  return ORT_NAMES[code];
}

export function dataTypeFromOrtName(name: string): number | undefined {
  for (const [code, n] of Object.entries(ORT_NAMES)) if (n === name) return Number(code);
  return undefined;
}
