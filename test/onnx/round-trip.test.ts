import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { serializeModel } from '../../src/onnx/save.js';
import { decodeModelProto, modelProtoToObject } from '../../src/onnx/schema.js';
import { allBackendModels, npmModels, sharedModels } from '../helpers/corpus.js';

// Every model of the corpus, loaded and written back, decodes to the same message.
describe('lossless round trip (messages)', () => {
  const models = [...allBackendModels(), ...sharedModels(), ...npmModels()];
  it(`covers the whole corpus (${models.length} models)`, () => {
    expect(models.length).toBeGreaterThan(1000);
    const differing: string[] = [];
    for (const m of models) {
      const model = loadModel(m.file);
      if (model.source!.externalFiles.length) continue; // compared with external data in external-data.test.ts
      const before = modelProtoToObject(decodeModelProto(readFileSync(m.file)));
      const after = modelProtoToObject(decodeModelProto(serializeModel(model)));
      if (!isDeepStrictEqual(before, after)) differing.push(m.id);
    }
    expect(differing).toEqual([]);
  });
});
