import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { schemaRoot } from '../../src/onnx/schema.js';

// onnx-proto (IR 8) is a subset of the spec; our IR-11 schema must agree with it on every
// field it knows: same number, same type, same repetition.
describe('schema', () => {
  it('agrees with onnx-proto on every field onnx-proto declares', () => {
    const theirs = onnxProtoFields();
    const mismatches: string[] = [];
    let checked = 0;
    for (const f of theirs) {
      const type = findType(f.message);
      const ours = type?.fieldsArray.find((o) => o.id === f.id);
      if (!ours) { mismatches.push(`${f.message} field ${f.id} (${f.name}) missing`); continue; }
      const ourType = ours.resolve().resolvedType instanceof protobuf.Enum ? 'int32' : ours.type;
      if (ourType !== f.type || ours.repeated !== f.repeated || ours.name.replace(/_/g, '') !== f.name.toLowerCase()) {
        mismatches.push(`${f.message}.${f.name} #${f.id}: ours ${ours.name} ${ourType}${ours.repeated ? '[]' : ''}, theirs ${f.type}${f.repeated ? '[]' : ''}`);
      }
      checked++;
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThan(90);
  });
});

function findType(name: string): protobuf.Type | undefined {
  let found: protobuf.Type | undefined;
  const visit = (ns: protobuf.NamespaceBase) => {
    for (const nested of ns.nestedArray) {
      if (nested instanceof protobuf.Type && nested.name === name) found ??= nested;
      if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) visit(nested);
    }
  };
  visit(schemaRoot);
  return found;
}

interface FieldFact { message: string; name: string; id: number; type: string; repeated: boolean }

/** onnx-proto is a static module without reflection: read each decoder's `case N:` arms. */
function onnxProtoFields(): FieldFact[] {
  const js = readFileSync(createRequire(import.meta.url).resolve('onnx-proto'), 'utf8');
  const facts: FieldFact[] = [];
  for (const m of js.matchAll(/(\w+)\.decode = function decode\(reader, length\) \{([\s\S]*?)return message;/g)) {
    for (const c of m[2]!.matchAll(/case (\d+):([\s\S]*?)break;/g)) {
      const text = c[2]!;
      const field = /message\.(\w+)/.exec(text)?.[1];
      if (!field) continue;
      // Packed arrays read a uint32 length first; the element reader is the one inside push().
      const type = /push\(reader\.(\w+)\(\)\)/.exec(text)?.[1] ?? /\$root\.onnx\.(?:\w+\.)*(\w+)\.decode/.exec(text)?.[1] ?? /reader\.(\w+)\(\)/.exec(text)?.[1] ?? '?';
      facts.push({ message: m[1]!, name: field, id: Number(c[1]), type, repeated: text.includes('.push(') });
    }
  }
  return facts;
}
