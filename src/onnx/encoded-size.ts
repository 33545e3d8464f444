// How many bytes a node or tensor takes in the file, for passes that must not grow it.
import type { Node } from '../ir/graph.js';
import type { Tensor } from '../ir/tensor.js';
import { NodeProtoType, TensorProtoType } from './schema.js';
import { nodeToProto, tensorToProto } from './to-proto.js';
import type protobuf from 'protobufjs';

export function encodedNodeBytes(node: Node): number {
  return NodeProtoType.encode(nodeToProto(node) as unknown as protobuf.Message).len;
}

export function encodedTensorBytes(tensor: Tensor): number {
  return TensorProtoType.encode(tensorToProto(tensor) as unknown as protobuf.Message).len;
}
