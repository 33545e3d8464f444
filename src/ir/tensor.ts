// A constant tensor: an initializer, a Constant node's value or an attribute tensor.
// Data loaded from a file is viewed, not copied: `raw` is a slice of the file buffer.
import { createHash } from 'node:crypto';
import { DataType, bitsPerElement, rawByteLength, dataTypeName } from './dtype.js';
import { bfloat16ToFloat32, float16ToFloat32, float32ToBfloat16, float32ToFloat16, float4e2m1ToFloat32, float8ToFloat32 } from './float-formats.js';

export type Int64 = number | bigint;

/** Where a tensor's values live, kept as the file had them so a round trip is lossless. */
export type TensorData =
  | { kind: 'raw'; bytes: Uint8Array }
  | { kind: 'float_data'; values: number[] }
  | { kind: 'int32_data'; values: number[] }
  | { kind: 'int64_data'; values: Int64[] }
  | { kind: 'uint64_data'; values: Int64[] }
  | { kind: 'double_data'; values: number[] }
  | { kind: 'string_data'; values: Uint8Array[] }
  | { kind: 'empty' };

/** Where an external tensor came from; kept for reports and round trips. */
export interface ExternalOrigin { location: string; offset: number; length: number; extra: { key: string; value: string }[] }

export interface TensorMeta {
  docString?: string;
  metadataProps?: { key: string; value: string }[];
  segment?: { begin?: Int64; end?: Int64 };
  /** data_location was written explicitly as DEFAULT (0) in the source file. */
  explicitDefaultLocation?: boolean;
  /** the source file declared `name` explicitly (even as ''). */
  hasName?: boolean;
  hasDataType?: boolean;
}

export class Tensor {
  name: string;
  dataType: number;
  dims: number[];
  data: TensorData;
  external?: ExternalOrigin;
  meta: TensorMeta;

  constructor(name: string, dataType: number, dims: number[], data: TensorData, meta: TensorMeta = {}) {
    this.name = name;
    this.dataType = dataType;
    this.dims = dims;
    this.data = data;
    this.meta = meta;
  }

  static fromFloat32(name: string, dims: number[], values: Float32Array): Tensor {
    return Tensor.fromBytes(name, DataType.FLOAT, dims, bytesOf(values));
  }

  /**
   * float32 values stored as `dataType`: float, float16 or bfloat16 (isWeightFloat). A pass that
   * read a weight with toFloat32 writes it back in its own type; a half value read and written
   * unchanged comes back with the same bits.
   */
  static fromFloat32As(name: string, dataType: number, dims: number[], values: Float32Array): Tensor {
    if (dataType === DataType.FLOAT) return Tensor.fromFloat32(name, dims, values);
    const encode = dataType === DataType.FLOAT16 ? float32ToFloat16 : dataType === DataType.BFLOAT16 ? float32ToBfloat16 : undefined;
    if (!encode) throw new Error(`fromFloat32As: ${dataTypeName(dataType)} is not float, float16 or bfloat16`);
    return Tensor.fromTyped(name, dataType, dims, Uint16Array.from(values, encode));
  }

  static fromBytes(name: string, dataType: number, dims: number[], bytes: Uint8Array): Tensor {
    return new Tensor(name, dataType, dims, { kind: 'raw', bytes });
  }

  /** Creates a tensor from a typed array whose type matches dataType (Int8Array for int8 ...). */
  static fromTyped(name: string, dataType: number, dims: number[], values: ArrayBufferView): Tensor {
    return Tensor.fromBytes(name, dataType, dims, bytesOf(values));
  }

  get elementCount(): number {
    let n = 1;
    for (const d of this.dims) n *= d;
    return n;
  }

  /** Bytes the values take in raw_data form (strings: their summed lengths). */
  get byteLength(): number {
    if (this.data.kind === 'raw') return this.data.bytes.byteLength;
    if (this.data.kind === 'string_data') return this.data.values.reduce((s, v) => s + v.byteLength, 0);
    return rawByteLength(this.dataType, this.elementCount) ?? 0;
  }

  describe(): string {
    return `'${this.name}' (${dataTypeName(this.dataType)}[${this.dims.join('x')}])`;
  }

  /**
   * Equal for tensors of one dtype, shape and contents, whatever their names or storage
   * (raw or typed fields): a digest of the bytes, or of the strings for a string tensor.
   */
  contentKey(): string {
    const contents = this.data.kind === 'string_data' ? JSON.stringify(this.toStrings()) : createHash('sha256').update(this.rawBytes()).digest('hex');
    return `${this.dataType}|${this.dims.join('x')}|${contents}`;
  }

  /** The values as little-endian raw_data bytes; a view when stored raw, else encoded. */
  rawBytes(): Uint8Array {
    const d = this.data;
    switch (d.kind) {
      case 'raw': return d.bytes;
      case 'empty': return new Uint8Array(0);
      case 'float_data': return bytesOf(Float32Array.from(d.values));
      case 'double_data': return bytesOf(Float64Array.from(d.values));
      case 'int64_data': return bytesOf(BigInt64Array.from(d.values, (v) => BigInt(v)));
      case 'uint64_data': return bytesOf(BigUint64Array.from(d.values, (v) => BigInt.asUintN(64, BigInt(v))));
      case 'int32_data': return int32DataToRaw(this.dataType, d.values, this.elementCount);
      case 'string_data': throw new Error(`tensor ${this.describe()} holds strings, which have no raw form`);
    }
  }

  /**
   * The values as a typed array of their natural JS type (Float32Array for float,
   * Uint16Array of bits for float16/bfloat16, Uint8Array of packed bytes for 4-bit types).
   * A zero-copy view when the raw bytes are aligned; a copy otherwise.
   */
  typedView(): ArrayBufferView {
    const bytes = this.rawBytes();
    const Ctor = TYPED[this.dataType];
    if (!Ctor) return bytes;
    const size = Ctor.BYTES_PER_ELEMENT;
    if (bytes.byteOffset % size === 0) return new Ctor(bytes.buffer, bytes.byteOffset, bytes.byteLength / size);
    // Buffer#slice is a view, not a copy: copy through Uint8Array to get an aligned buffer.
    return new Ctor(new Uint8Array(bytes).buffer, 0, bytes.byteLength / size);
  }

  /** Every numeric dtype decoded to float32 (int64 beyond 2^24 loses precision, as in any float cast). */
  toFloat32(): Float32Array {
    const n = this.elementCount;
    const d = this.data;
    if (d.kind === 'float_data') return Float32Array.from(d.values);
    if (d.kind === 'double_data') return Float32Array.from(d.values);
    if (d.kind === 'int32_data' && this.dataType !== DataType.FLOAT16 && this.dataType !== DataType.BFLOAT16 && (bitsPerElement(this.dataType) ?? 0) >= 8) {
      return Float32Array.from(d.values);
    }
    const view = this.typedView();
    // float32 is a plain copy (callers may modify the result); the other types convert.
    if (this.dataType === DataType.FLOAT) return new Float32Array(view as Float32Array);
    const out = new Float32Array(n);
    const t = this.dataType;
    if (t === DataType.FLOAT16 || t === DataType.BFLOAT16) {
      const bits = view as Uint16Array;
      const f = t === DataType.FLOAT16 ? float16ToFloat32 : bfloat16ToFloat32;
      for (let i = 0; i < n; i++) out[i] = f(bits[i]!);
      return out;
    }
    if (t >= 17 && t <= 20 || t === 24) {
      const kind = ({ 17: 'e4m3fn', 18: 'e4m3fnuz', 19: 'e5m2', 20: 'e5m2fnuz', 24: 'e8m0' } as const)[t as 17];
      const b = view as Uint8Array;
      for (let i = 0; i < n; i++) out[i] = float8ToFloat32(b[i]!, kind);
      return out;
    }
    if (t === DataType.INT4 || t === DataType.UINT4 || t === DataType.FLOAT4E2M1 || t === DataType.INT2 || t === DataType.UINT2) {
      const ints = unpackSubByte(view as Uint8Array, t, n);
      if (t === DataType.FLOAT4E2M1) for (let i = 0; i < n; i++) out[i] = float4e2m1ToFloat32(ints[i]!);
      else for (let i = 0; i < n; i++) out[i] = ints[i]!;
      return out;
    }
    if (t === DataType.STRING || t === DataType.COMPLEX64 || t === DataType.COMPLEX128 || t === DataType.UNDEFINED) {
      throw new Error(`tensor ${this.describe()} has no float view`);
    }
    const src = view as unknown as ArrayLike<number | bigint>;
    for (let i = 0; i < n; i++) out[i] = Number(src[i]!);
    return out;
  }

  /** Integer values as numbers (int64 past 2^53 is rounded: shape and index math never gets there). */
  toNumbers(): number[] {
    const d = this.data;
    if (d.kind === 'int64_data' || d.kind === 'uint64_data') return d.values.map(Number);
    if (d.kind === 'int32_data' || d.kind === 'float_data' || d.kind === 'double_data') return d.values.slice();
    if (this.dataType === DataType.INT4 || this.dataType === DataType.UINT4) {
      return Array.from(unpackSubByte(this.typedView() as Uint8Array, this.dataType, this.elementCount));
    }
    const view = this.typedView() as unknown as ArrayLike<number | bigint>;
    if (this.dataType === DataType.FLOAT16 || this.dataType === DataType.BFLOAT16 || (this.dataType >= 17 && this.dataType <= 24)) {
      return Array.from(this.toFloat32());
    }
    const out = new Array<number>(view.length);
    for (let i = 0; i < view.length; i++) out[i] = Number(view[i]!);
    return out;
  }

  /** Strings of a STRING tensor, decoded as UTF-8. */
  toStrings(): string[] {
    if (this.data.kind !== 'string_data') return [];
    const dec = new TextDecoder();
    return this.data.values.map((v) => dec.decode(v));
  }
}

type TypedCtor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): ArrayBufferView; BYTES_PER_ELEMENT: number };
const TYPED: Record<number, TypedCtor> = {
  1: Float32Array, 2: Uint8Array, 3: Int8Array, 4: Uint16Array, 5: Int16Array, 6: Int32Array,
  7: BigInt64Array, 9: Uint8Array, 10: Uint16Array, 11: Float64Array, 12: Uint32Array,
  13: BigUint64Array, 16: Uint16Array, 17: Uint8Array, 18: Uint8Array, 19: Uint8Array, 20: Uint8Array,
  21: Uint8Array, 22: Uint8Array, 23: Uint8Array, 24: Uint8Array, 25: Uint8Array, 26: Uint8Array,
} as unknown as Record<number, TypedCtor>;

export function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** Unpacks 4-bit (low nibble first) or 2-bit values, sign-extending the signed types. */
export function unpackSubByte(bytes: Uint8Array, dataType: number, count: number): Int8Array | Uint8Array {
  const bits = dataType === DataType.INT2 || dataType === DataType.UINT2 ? 2 : 4;
  const signed = dataType === DataType.INT4 || dataType === DataType.INT2;
  const out = signed ? new Int8Array(count) : new Uint8Array(count);
  const per = 8 / bits;
  const mask = (1 << bits) - 1;
  for (let i = 0; i < count; i++) {
    let v = (bytes[(i / per) | 0]! >> ((i % per) * bits)) & mask;
    if (signed && v & (1 << (bits - 1))) v -= 1 << bits;
    out[i] = v;
  }
  return out;
}

/** Packs 4-bit values (low nibble first), as ONNX raw_data stores int4/uint4. */
export function packInt4(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(values.length / 2));
  for (let i = 0; i < values.length; i++) out[i >> 1]! |= (values[i]! & 0xf) << ((i & 1) * 4);
  return out;
}

// int32_data holds one element per entry for every type narrower than 32 bits, and
// packed pairs for 4-bit types; turn that into the raw little-endian layout.
function int32DataToRaw(dataType: number, values: number[], count: number): Uint8Array {
  const bits = bitsPerElement(dataType) ?? 32;
  if (bits === 32) return bytesOf(Int32Array.from(values));
  if (bits === 16) return bytesOf(Uint16Array.from(values, (v) => v & 0xffff));
  if (bits === 8) return Uint8Array.from(values, (v) => v & 0xff);
  if (bits === 4 || bits === 2) {
    // Since IR 10 each int32 holds packed bytes of sub-byte values.
    const out = new Uint8Array(rawByteLength(dataType, count) ?? 0);
    for (let i = 0; i < out.length && i < values.length; i++) out[i] = values[i]! & 0xff;
    return out;
  }
  return bytesOf(Int32Array.from(values));
}
