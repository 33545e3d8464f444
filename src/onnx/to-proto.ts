// IR -> proto messages for encoding. The inverse of from-proto.ts.
import type { AttributeProto, GraphProto, ModelProto, NodeProto, StringStringEntryProto, TensorProto, TypeProto, ValueInfoProto } from './schema.js';
import { toLong, toULong } from './schema.js';
import type { Attribute, Graph, KeyValue, Model, Node, ValueInfo } from '../ir/graph.js';
import type { Tensor } from '../ir/tensor.js';
import type { TypeInfo } from '../ir/onnx-types.js';

/** Decides, per tensor, whether its bytes go to an external file and where. */
export type ExternalPlacer = (tensor: Tensor) => { location: string; offset: number; length: number } | undefined;

export function modelToProto(model: Model, placer?: ExternalPlacer): ModelProto {
  const p: ModelProto = {
    ir_version: toLong(model.irVersion),
    opset_import: model.opsetImport.map((o) => (o.omitDomain && !o.domain ? { version: toLong(o.version) } : { domain: o.domain, version: toLong(o.version) })),
  };
  if (model.producerName !== undefined) p.producer_name = model.producerName;
  if (model.producerVersion !== undefined) p.producer_version = model.producerVersion;
  if (model.domain !== undefined) p.domain = model.domain;
  if (model.modelVersion !== undefined) p.model_version = toLong(model.modelVersion);
  if (model.docString !== undefined) p.doc_string = model.docString;
  p.graph = graphToProto(model.graph, placer);
  if (model.metadataProps.length) p.metadata_props = kv(model.metadataProps);
  if (model.trainingInfo.length) p.training_info = model.trainingInfo as ModelProto['training_info'];
  if (model.functions.length) p.functions = model.functions;
  if (model.configuration.length) p.configuration = model.configuration;
  return p;
}

/**
 * The IR's value types are what the decoder gave (int64 dims as its Long objects) or
 * what the IR built (number dims): both are what the encoder takes, so no copy is made.
 */
function typeToProto(t: TypeInfo): TypeProto {
  return t as TypeProto;
}

function kv(list: KeyValue[]): StringStringEntryProto[] {
  return list.map((e) => ({ key: e.key, value: e.value }));
}

export function graphToProto(g: Graph, placer?: ExternalPlacer): GraphProto {
  const p: GraphProto = {
    node: g.nodes.map((n) => nodeToProto(n, placer)),
    initializer: [...g.initializers.values()].map((t) => tensorToProto(t, placer)),
    input: g.inputs.map(valueInfoToProto),
    output: g.outputs.map(valueInfoToProto),
    value_info: g.valueInfo.map(valueInfoToProto),
  };
  if (g.name !== undefined) p.name = g.name;
  if (g.docString !== undefined) p.doc_string = g.docString;
  if (g.sparseInitializers.length) p.sparse_initializer = g.sparseInitializers;
  if (g.quantizationAnnotation.length) p.quantization_annotation = g.quantizationAnnotation;
  if (g.metadataProps?.length) p.metadata_props = kv(g.metadataProps);
  return p;
}

function valueInfoToProto(v: ValueInfo): ValueInfoProto {
  const p: ValueInfoProto = { name: v.name };
  if (v.type !== undefined) p.type = typeToProto(v.type);
  if (v.docString !== undefined) p.doc_string = v.docString;
  if (v.metadataProps?.length) p.metadata_props = kv(v.metadataProps);
  return p;
}

export function nodeToProto(n: Node, placer?: ExternalPlacer): NodeProto {
  const p: NodeProto = { input: n.inputs, output: n.outputs, op_type: n.opType, attribute: n.attributes.map((a) => attributeToProto(a, placer)) };
  if (n.name !== undefined) p.name = n.name;
  if (n.domain !== undefined) p.domain = n.domain;
  if (n.docString !== undefined) p.doc_string = n.docString;
  if (n.overload !== undefined) p.overload = n.overload;
  if (n.metadataProps?.length) p.metadata_props = kv(n.metadataProps);
  if (n.deviceConfigurations?.length) p.device_configurations = n.deviceConfigurations;
  return p;
}

function attributeToProto(a: Attribute, placer?: ExternalPlacer): AttributeProto {
  const p: AttributeProto = { name: a.name, type: a.type };
  if (a.f !== undefined) p.f = a.f;
  if (a.i !== undefined) p.i = toLong(a.i);
  if (a.s !== undefined) p.s = a.s;
  // Attribute tensors (Constant values) stay inline: external data is for initializers.
  if (a.t !== undefined) p.t = tensorToProto(a.t, undefined);
  if (a.g !== undefined) p.g = graphToProto(a.g, placer);
  if (a.sparse_tensor !== undefined) p.sparse_tensor = a.sparse_tensor;
  if (a.tp !== undefined) p.tp = typeToProto(a.tp);
  if (a.floats?.length) p.floats = a.floats;
  if (a.ints?.length) p.ints = a.ints.map(toLong);
  if (a.strings?.length) p.strings = a.strings;
  if (a.tensors?.length) p.tensors = a.tensors.map((t) => tensorToProto(t, undefined));
  if (a.graphs?.length) p.graphs = a.graphs.map((g) => graphToProto(g, placer));
  if (a.sparse_tensors?.length) p.sparse_tensors = a.sparse_tensors;
  if (a.type_protos?.length) p.type_protos = a.type_protos.map(typeToProto);
  if (a.ref_attr_name !== undefined) p.ref_attr_name = a.ref_attr_name;
  if (a.doc_string !== undefined) p.doc_string = a.doc_string;
  return p;
}

export function tensorToProto(t: Tensor, placer?: ExternalPlacer): TensorProto {
  const p: TensorProto = { dims: t.dims.map(toLong) };
  if (t.meta.hasDataType !== false) p.data_type = t.dataType;
  if (t.name !== '' || t.meta.hasName) p.name = t.name;
  if (t.meta.docString !== undefined) p.doc_string = t.meta.docString;
  if (t.meta.segment) {
    p.segment = {};
    if (t.meta.segment.begin !== undefined) p.segment.begin = toLong(t.meta.segment.begin);
    if (t.meta.segment.end !== undefined) p.segment.end = toLong(t.meta.segment.end);
  }
  if (t.meta.metadataProps?.length) p.metadata_props = kv(t.meta.metadataProps);
  const place = placer?.(t);
  if (place) {
    p.data_location = 1;
    p.external_data = [
      { key: 'location', value: place.location },
      { key: 'offset', value: String(place.offset) },
      { key: 'length', value: String(place.length) },
    ];
    return p;
  }
  if (t.meta.explicitDefaultLocation) p.data_location = 0;
  const d = t.data;
  switch (d.kind) {
    case 'raw': p.raw_data = d.bytes; break;
    case 'float_data': p.float_data = d.values; break;
    case 'double_data': p.double_data = d.values; break;
    case 'int32_data': p.int32_data = d.values; break;
    case 'int64_data': p.int64_data = d.values.map(toLong); break;
    case 'uint64_data': p.uint64_data = d.values.map(toULong); break;
    case 'string_data': p.string_data = d.values; break;
    case 'empty': break;
  }
  return p;
}
