// A deep copy of a model, through its encoding: simple, and exactly as lossless as a
// save and load. Tensors of the copy view the new encoding, not the original's bytes.
import type { Model } from '../ir/graph.js';
import { modelFromProto } from './from-proto.js';
import { decodeModelProto } from './schema.js';
import { serializeModel } from './save.js';

export function cloneModel(model: Model): Model {
  const copy = modelFromProto(decodeModelProto(serializeModel(model)));
  copy.source = model.source;
  return copy;
}
