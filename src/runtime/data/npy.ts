// NumPy .npy files (format 1.0-3.0): little-endian, C order, the dtypes models take.
import { badInput } from '../../errors.js';
import type { HostTensor } from '../ort.js';

const DTYPES: Record<string, { type: string; ctor: { new (b: ArrayBuffer): ArrayBufferView; BYTES_PER_ELEMENT: number } }> = {
  '<f4': { type: 'float32', ctor: Float32Array },
  '<f8': { type: 'float64', ctor: Float64Array },
  '<i8': { type: 'int64', ctor: BigInt64Array },
  '<i4': { type: 'int32', ctor: Int32Array },
  '<i2': { type: 'int16', ctor: Int16Array },
  '|i1': { type: 'int8', ctor: Int8Array },
  '|u1': { type: 'uint8', ctor: Uint8Array },
  '|b1': { type: 'bool', ctor: Uint8Array },
  '<f2': { type: 'float16', ctor: Uint16Array },
} as never;

export function parseNpy(bytes: Uint8Array, file: string): HostTensor {
  const magic = String.fromCharCode(...bytes.subarray(0, 6));
  if (magic !== '\x93NUMPY') throw badInput(`${file}: not a .npy file`);
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw badInput(`${file}: unreadable .npy header`);
  if (fortran) throw badInput(`${file}: Fortran-order arrays are not supported; save with C order`);
  const dtype = DTYPES[descr];
  if (!dtype) throw badInput(`${file}: dtype '${descr}' is not supported (use float32, float64, int64, int32, int8, uint8 or bool, little-endian)`);
  const dims = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  const need = count * dtype.ctor.BYTES_PER_ELEMENT;
  if (bytes.byteLength - dataStart < need) throw badInput(`${file}: holds ${bytes.byteLength - dataStart} bytes of data, its shape needs ${need}`);
  // Copy through Uint8Array: Buffer#slice would share the file's pooled memory.
  const copy = new Uint8Array(bytes.subarray(dataStart, dataStart + need));
  return { type: dtype.type, dims, data: new dtype.ctor(copy.buffer) };
}

export function encodeNpy(tensor: HostTensor): Uint8Array {
  const descr = Object.entries(DTYPES).find(([, d]) => d.type === tensor.type)?.[0];
  if (!descr || Array.isArray(tensor.data)) throw badInput(`cannot write ${tensor.type} as .npy`);
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = new Uint8Array(10 + header.length);
  head.set([0x93, ...'NUMPY'.split('').map((c) => c.charCodeAt(0)), 1, 0]);
  new DataView(head.buffer).setUint16(8, header.length, true);
  head.set(new TextEncoder().encode(header), 10);
  const data = tensor.data as ArrayBufferView;
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}
