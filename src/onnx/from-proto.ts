// Decoded proto messages -> IR. Presence of optional fields is kept (proto2 has-bits),
// so that writing the IR back gives the same message.
import type { AttributeProto, GraphProto, ModelProto, NodeProto, StringStringEntryProto, TensorProto, ValueInfoProto } from './schema.js';
import { decodeTensorProto, fromLong } from './schema.js';
import { Graph, Model, Node, type Attribute, type KeyValue, type OpsetId, type ValueInfo } from '../ir/graph.js';
import { Tensor, type TensorData } from '../ir/tensor.js';

function has<T extends object>(msg: T, key: keyof T): boolean {
  return Object.prototype.hasOwnProperty.call(msg, key) && msg[key] !== undefined && msg[key] !== null;
}

function nonEmpty<T>(list: T[] | undefined): T[] | undefined {
  return list && list.length > 0 ? list : undefined;
}

function kv(list: StringStringEntryProto[] | undefined): KeyValue[] | undefined {
  return nonEmpty(list)?.map((e) => ({ key: e.key ?? '', value: e.value ?? '' }));
}

export function modelFromProto(p: ModelProto): Model {
  const model = new Model(p.graph ? graphFromProto(p.graph, undefined) : new Graph());
  model.irVersion = Number(fromLong(p.ir_version));
  model.opsetImport = (p.opset_import ?? []).map((o) => {
    const id: OpsetId = { domain: o.domain ?? '', version: Number(fromLong(o.version)) };
    if (!has(o, 'domain')) id.omitDomain = true;
    return id;
  });
  if (has(p, 'producer_name')) model.producerName = p.producer_name;
  if (has(p, 'producer_version')) model.producerVersion = p.producer_version;
  if (has(p, 'domain')) model.domain = p.domain;
  if (has(p, 'model_version')) model.modelVersion = fromLong(p.model_version);
  if (has(p, 'doc_string')) model.docString = p.doc_string;
  model.metadataProps = kv(p.metadata_props) ?? [];
  model.trainingInfo = p.training_info ?? [];
  model.functions = p.functions ?? [];
  model.configuration = p.configuration ?? [];
  return model;
}

export function graphFromProto(p: GraphProto, parent: Graph | undefined): Graph {
  const g = new Graph();
  g.parent = parent;
  if (has(p, 'name')) g.name = p.name;
  if (has(p, 'doc_string')) g.docString = p.doc_string;
  // Decoding builds a graph rather than editing one, so it fills the lists directly (not through
  // ir/mutate.ts): the file's node order and entries are kept as they are, and validated after.
  for (const t of p.initializer ?? []) {
    const tensor = tensorFromProto(t);
    g.initializers.set(tensor.name, tensor);
  }
  g.nodes = (p.node ?? []).map((n) => nodeFromProto(n, g));
  g.inputs = (p.input ?? []).map(valueInfoFromProto);
  g.outputs = (p.output ?? []).map(valueInfoFromProto);
  g.valueInfo = (p.value_info ?? []).map(valueInfoFromProto);
  g.sparseInitializers = p.sparse_initializer ?? [];
  g.quantizationAnnotation = p.quantization_annotation ?? [];
  g.metadataProps = kv(p.metadata_props);
  return g;
}

function valueInfoFromProto(p: ValueInfoProto): ValueInfo {
  const v: ValueInfo = { name: p.name ?? '' };
  if (has(p, 'type')) v.type = p.type;
  if (has(p, 'doc_string')) v.docString = p.doc_string;
  const meta = kv(p.metadata_props);
  if (meta) v.metadataProps = meta;
  return v;
}

function nodeFromProto(p: NodeProto, graph: Graph): Node {
  const node = new Node({
    opType: p.op_type ?? '',
    inputs: [...(p.input ?? [])],
    outputs: [...(p.output ?? [])],
    attributes: (p.attribute ?? []).map((a) => attributeFromProto(a, graph)),
  });
  if (has(p, 'name')) node.name = p.name;
  if (has(p, 'domain')) node.domain = p.domain;
  if (has(p, 'doc_string')) node.docString = p.doc_string;
  if (has(p, 'overload')) node.overload = p.overload;
  node.metadataProps = kv(p.metadata_props);
  node.deviceConfigurations = nonEmpty(p.device_configurations);
  return node;
}

function attributeFromProto(p: AttributeProto, graph: Graph): Attribute {
  const a: Attribute = { name: p.name ?? '', type: p.type ?? 0 };
  if (has(p, 'f')) a.f = p.f;
  if (has(p, 'i')) a.i = fromLong(p.i);
  if (has(p, 's')) a.s = p.s;
  if (has(p, 't')) a.t = tensorFromProto(p.t!);
  if (has(p, 'g')) a.g = graphFromProto(p.g!, graph);
  if (has(p, 'sparse_tensor')) a.sparse_tensor = p.sparse_tensor;
  if (has(p, 'tp')) a.tp = p.tp;
  if (nonEmpty(p.floats)) a.floats = p.floats;
  if (nonEmpty(p.ints)) a.ints = p.ints!.map(fromLong);
  if (nonEmpty(p.strings)) a.strings = p.strings;
  if (nonEmpty(p.tensors)) a.tensors = p.tensors!.map(tensorFromProto);
  if (nonEmpty(p.graphs)) a.graphs = p.graphs!.map((sub) => graphFromProto(sub, graph));
  if (nonEmpty(p.sparse_tensors)) a.sparse_tensors = p.sparse_tensors;
  if (nonEmpty(p.type_protos)) a.type_protos = p.type_protos;
  if (has(p, 'ref_attr_name')) a.ref_attr_name = p.ref_attr_name;
  if (has(p, 'doc_string')) a.doc_string = p.doc_string;
  return a;
}

export function tensorFromProto(p: TensorProto): Tensor {
  const dims = (p.dims ?? []).map((d) => Number(fromLong(d)));
  const tensor = new Tensor(p.name ?? '', p.data_type ?? 0, dims, tensorDataOf(p));
  if (has(p, 'name')) tensor.meta.hasName = true;
  if (has(p, 'data_type')) tensor.meta.hasDataType = true;
  if (has(p, 'doc_string')) tensor.meta.docString = p.doc_string;
  const meta = kv(p.metadata_props);
  if (meta) tensor.meta.metadataProps = meta;
  if (has(p, 'segment')) tensor.meta.segment = { begin: p.segment!.begin !== undefined ? fromLong(p.segment!.begin) : undefined, end: p.segment!.end !== undefined ? fromLong(p.segment!.end) : undefined };
  if (p.data_location === 1 || nonEmpty(p.external_data)) {
    const entries = (p.external_data ?? []).map((e) => ({ key: e.key ?? '', value: e.value ?? '' }));
    const get = (k: string) => entries.find((e) => e.key === k)?.value;
    tensor.external = {
      location: get('location') ?? '',
      offset: Number(get('offset') ?? 0),
      length: get('length') !== undefined ? Number(get('length')) : -1,
      extra: entries.filter((e) => !['location', 'offset', 'length'].includes(e.key)),
    };
  } else if (has(p, 'data_location')) {
    tensor.meta.explicitDefaultLocation = true;
  }
  return tensor;
}

/** A serialized TensorProto (a .pb test-data file) as an IR tensor. */
export function tensorFromBytes(bytes: Uint8Array): Tensor {
  return tensorFromProto(decodeTensorProto(bytes));
}

function tensorDataOf(p: TensorProto): TensorData {
  if (has(p, 'raw_data')) return { kind: 'raw', bytes: p.raw_data! };
  if (nonEmpty(p.float_data)) return { kind: 'float_data', values: p.float_data! };
  if (nonEmpty(p.int32_data)) return { kind: 'int32_data', values: p.int32_data! };
  if (nonEmpty(p.int64_data)) return { kind: 'int64_data', values: p.int64_data!.map(fromLong) };
  if (nonEmpty(p.uint64_data)) return { kind: 'uint64_data', values: p.uint64_data!.map((v) => (typeof v === 'number' ? v : BigInt.asUintN(64, BigInt(v.toString())))) };
  if (nonEmpty(p.double_data)) return { kind: 'double_data', values: p.double_data! };
  if (nonEmpty(p.string_data)) return { kind: 'string_data', values: p.string_data! };
  return { kind: 'empty' };
}
