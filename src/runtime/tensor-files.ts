// Tensors on disk: ONNX TensorProto .pb files (the layout of an ONNX test data set)
// and conversion between IR Tensors and the runtime's HostTensors.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { OnnxpressError } from '../errors.js';
import { DataType, dataTypeName, ortTypeName } from '../ir/dtype.js';
import { Tensor, bytesOf } from '../ir/tensor.js';
import { tensorFromBytes } from '../onnx/from-proto.js';
import { tensorProblem } from '../ir/validate.js';
import type { HostTensor } from './ort.js';

/** Reads a serialized TensorProto; the tensor's name is its proto name (may be empty). */
export function readTensorPb(file: string): Tensor {
  let tensor: Tensor;
  try {
    tensor = tensorFromBytes(readFileSync(file));
  } catch (err) {
    throw new OnnxpressError('BAD_INPUT', `${file}: not a TensorProto .pb file (${(err as Error).message.split('\n')[0]})`);
  }
  const problem = tensorProblem(tensor);
  if (problem) throw new OnnxpressError('BAD_INPUT', `${file}: ${problem}`);
  return tensor;
}

/** An IR tensor as a runtime tensor (a copy only where the layout differs). */
export function toHostTensor(t: Tensor): HostTensor {
  const type = ortTypeName(t.dataType);
  if (!type) throw new OnnxpressError('UNSUPPORTED', `tensor ${t.describe()}: ${dataTypeName(t.dataType)} cannot be fed to onnxruntime-node`);
  if (t.dataType === DataType.STRING) return { type, dims: t.dims, data: t.toStrings() };
  const view = t.typedView();
  // Copy so the runtime gets an aligned buffer that no other tensor shares.
  const data = copyView(view);
  return { type, dims: t.dims, data };
}

function copyView(view: ArrayBufferView): ArrayBufferView {
  const Ctor = view.constructor as { new (src: ArrayBufferView): ArrayBufferView };
  return new Ctor(view);
}

/** A runtime tensor as an IR tensor (raw bytes, copied). */
export function fromHostTensor(name: string, t: HostTensor): Tensor {
  const code = Object.entries({ float32: 1, uint8: 2, int8: 3, uint16: 4, int16: 5, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11, uint32: 12, uint64: 13 })
    .find(([k]) => k === t.type)?.[1];
  if (code === undefined || Array.isArray(t.data)) throw new OnnxpressError('UNSUPPORTED', `output '${name}': type ${t.type} is not supported here`);
  return Tensor.fromBytes(name, code, t.dims, bytesOf(t.data as ArrayBufferView).slice());
}

export interface TestDataSet {
  dir: string;
  inputs: Tensor[];
  outputs: Tensor[];
}

/** The test_data_set_N folders beside an ONNX backend test model, sorted by N. */
export function readTestDataSets(modelDir: string): TestDataSet[] {
  if (!existsSync(modelDir)) return [];
  const sets = readdirSync(modelDir).filter((d) => d.startsWith('test_data_set_')).sort((a, b) => Number(a.slice(14)) - Number(b.slice(14)));
  return sets.map((name) => {
    const dir = join(modelDir, name);
    const files = readdirSync(dir);
    const pick = (prefix: string) => files.filter((f) => f.startsWith(prefix) && f.endsWith('.pb')).sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3))).map((f) => readTensorPb(join(dir, f)));
    return { dir, inputs: pick('input_'), outputs: pick('output_') };
  });
}
