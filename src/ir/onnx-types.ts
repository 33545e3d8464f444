// ONNX's vocabulary as the IR owns it: attribute kinds, and the leaf messages the IR keeps
// as the decoder gave them (a value's type, sparse tensors, functions), so a round trip
// drops nothing. Declared here, not in src/onnx, so the IR needs nothing from protobuf;
// src/onnx/from-proto.ts and to-proto.ts map between these and the proto messages.
// Element types (FLOAT, INT64 ...) are in dtype.ts.

/** AttributeProto.AttributeType: which field of an attribute holds its value. */
export const AttrType = {
  UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8,
  TENSORS: 9, GRAPHS: 10, SPARSE_TENSOR: 11, SPARSE_TENSORS: 12, TYPE_PROTO: 13, TYPE_PROTOS: 14,
} as const;

/**
 * An int64 inside a kept message: a number, or the decoder's object for one past 2^53
 * (protobufjs's Long, which Number() and String() read). The IR itself only writes numbers.
 */
export type KeptInt64 = number | { toNumber(): number; toString(): string };

export interface ShapeDim { dim_value?: KeptInt64; dim_param?: string; denotation?: string }
export interface TensorTypeInfo { elem_type?: number; shape?: { dim?: ShapeDim[] } }

/** A value's type (TypeProto's fields, snake_case as the file has them). */
export interface TypeInfo {
  tensor_type?: TensorTypeInfo;
  sparse_tensor_type?: TensorTypeInfo;
  sequence_type?: { elem_type?: TypeInfo };
  map_type?: { key_type?: number; value_type?: TypeInfo };
  optional_type?: { elem_type?: TypeInfo };
  opaque_type?: { domain?: string; name?: string };
  denotation?: string;
}

/**
 * A message onnxpress never reads or edits (a sparse tensor, a model-local function):
 * held as decoded and written back as is.
 */
export type KeptMessage = object;
