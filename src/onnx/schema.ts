// The one place that touches protobuf: the schema, the message interfaces the decoder
// produces, and int64 conversion. Only src/onnx imports this file; everything else sees
// the IR (src/ir), which declares its own enums and kept message shapes (ir/onnx-types.ts).
import protobuf from 'protobufjs';
import Long from 'long';
import { ONNX_PROTO_TEXT } from './onnx-proto-text.js';

// int64 values must survive a round trip exactly (Slice ends of INT64_MAX are common),
// so protobufjs decodes them as Long; the IR turns them into number or bigint.
protobuf.util.Long = Long;
protobuf.configure();

// resolveAll() settles field features (packed encoding) before encoders are generated.
const root = protobuf.parse(ONNX_PROTO_TEXT, { keepCase: true }).root.resolveAll();

export const ModelProtoType = root.lookupType('onnx.ModelProto');
export const TensorProtoType = root.lookupType('onnx.TensorProto');
export const NodeProtoType = root.lookupType('onnx.NodeProto');
export const schemaRoot = root;

export type LongLike = number | Long;

export interface StringStringEntryProto { key?: string; value?: string }
export interface OperatorSetIdProto { domain?: string; version?: LongLike }

export interface TensorShapeDimProto { dim_value?: LongLike; dim_param?: string; denotation?: string }
export interface TypeProto {
  tensor_type?: { elem_type?: number; shape?: { dim?: TensorShapeDimProto[] } };
  sparse_tensor_type?: { elem_type?: number; shape?: { dim?: TensorShapeDimProto[] } };
  sequence_type?: { elem_type?: TypeProto };
  map_type?: { key_type?: number; value_type?: TypeProto };
  optional_type?: { elem_type?: TypeProto };
  opaque_type?: { domain?: string; name?: string };
  denotation?: string;
}

export interface ValueInfoProto {
  name?: string;
  type?: TypeProto;
  doc_string?: string;
  metadata_props?: StringStringEntryProto[];
}

export interface TensorProto {
  dims?: LongLike[];
  data_type?: number;
  segment?: { begin?: LongLike; end?: LongLike };
  float_data?: number[];
  int32_data?: number[];
  string_data?: Uint8Array[];
  int64_data?: LongLike[];
  name?: string;
  doc_string?: string;
  raw_data?: Uint8Array;
  external_data?: StringStringEntryProto[];
  data_location?: number;
  double_data?: number[];
  uint64_data?: LongLike[];
  metadata_props?: StringStringEntryProto[];
}

export interface SparseTensorProto { values?: TensorProto; indices?: TensorProto; dims?: LongLike[] }

export interface AttributeProto {
  name?: string;
  ref_attr_name?: string;
  doc_string?: string;
  type?: number;
  f?: number;
  i?: LongLike;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  sparse_tensor?: SparseTensorProto;
  tp?: TypeProto;
  floats?: number[];
  ints?: LongLike[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
  sparse_tensors?: SparseTensorProto[];
  type_protos?: TypeProto[];
}

export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  overload?: string;
  attribute?: AttributeProto[];
  doc_string?: string;
  metadata_props?: StringStringEntryProto[];
  device_configurations?: unknown[];
}

export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  sparse_initializer?: SparseTensorProto[];
  doc_string?: string;
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  value_info?: ValueInfoProto[];
  quantization_annotation?: unknown[];
  metadata_props?: StringStringEntryProto[];
}

export interface FunctionProto {
  name?: string;
  input?: string[];
  output?: string[];
  attribute?: string[];
  attribute_proto?: AttributeProto[];
  node?: NodeProto[];
  doc_string?: string;
  opset_import?: OperatorSetIdProto[];
  domain?: string;
  overload?: string;
  value_info?: ValueInfoProto[];
  metadata_props?: StringStringEntryProto[];
}

export interface ModelProto {
  ir_version?: LongLike;
  opset_import?: OperatorSetIdProto[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: LongLike;
  doc_string?: string;
  graph?: GraphProto;
  metadata_props?: StringStringEntryProto[];
  training_info?: { initialization?: GraphProto; algorithm?: GraphProto; initialization_binding?: StringStringEntryProto[]; update_binding?: StringStringEntryProto[] }[];
  functions?: FunctionProto[];
  configuration?: unknown[];
}

/** Decodes bytes into a ModelProto; bytes fields are views of `bytes`, not copies. */
export function decodeModelProto(bytes: Uint8Array): ModelProto {
  return ModelProtoType.decode(bytes) as unknown as ModelProto;
}

export function encodeModelProto(model: ModelProto): Uint8Array {
  return ModelProtoType.encode(model as unknown as protobuf.Message).finish();
}

export function decodeTensorProto(bytes: Uint8Array): TensorProto {
  return TensorProtoType.decode(bytes) as unknown as TensorProto;
}

/** Plain-object form for comparing two decodings field by field (presence included). */
export function modelProtoToObject(model: ModelProto): Record<string, unknown> {
  return ModelProtoType.toObject(model as unknown as protobuf.Message, { longs: String, bytes: String, defaults: false });
}

/** number when exact, bigint past 2^53, so int64 attributes survive a round trip. */
export function fromLong(v: LongLike | undefined): number | bigint {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  const n = v.toNumber();
  return Number.isSafeInteger(n) ? n : BigInt(v.toString());
}

/** uint64 values past 2^63 need an unsigned Long. */
export function toULong(v: number | bigint): LongLike {
  if (typeof v === 'bigint') return Long.fromString(BigInt.asUintN(64, v).toString(), true);
  return toLong(v);
}

export function toLong(v: number | bigint): LongLike {
  if (typeof v === 'bigint') return Long.fromString(v.toString());
  if (Number.isSafeInteger(v)) return v;
  // A computed value past 2^53 (e.g. a clamp to "infinity") is saturated to int64 range.
  if (v >= 9.2e18) return Long.MAX_VALUE;
  if (v <= -9.2e18) return Long.MIN_VALUE;
  return Long.fromNumber(Math.trunc(v));
}

// The IR owns the attribute kinds; re-exported for code that still imports them from here.
export { AttrType } from '../ir/onnx-types.js';
