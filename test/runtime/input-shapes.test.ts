// What the user is told about free input dims: a named one by its symbol, an unnamed one
// (exporters leave dim_param empty, as Silero's `input` [?, ?]) by its axis, never a blank.
import { describe, expect, it } from 'vitest';
import { describeInputShapes, dimsDefaultedToOne } from '../../src/runtime/input-shapes.js';

describe('free input dims in messages', () => {
  it('names a symbolic dim, and an unnamed or unknown one by its axis', () => {
    expect(dimsDefaultedToOne({ name: 'x', type: 'float32', dims: ['batch', 'seq', 8] })).toEqual(['seq']);
    expect(dimsDefaultedToOne({ name: 'x', type: 'float32', dims: ['', '', 128] })).toEqual(['at axis 1 (unnamed)']);
    expect(dimsDefaultedToOne({ name: 'x', type: 'float32', dims: [1, -1] })).toEqual(['at axis 1 (unnamed)']);
  });

  it('shows unnamed dims of the declared shape as ?', () => {
    const specs = [{ name: 'input', type: 'float32', dims: ['', ''] }, { name: 'state', type: 'float32', dims: [2, -1, 128] }];
    const samples = [{ input: { type: 'float32' as const, dims: [1, 512], data: new Float32Array(512) }, state: { type: 'float32' as const, dims: [2, 1, 128], data: new Float32Array(256) } }];
    expect(describeInputShapes(specs, samples)).toBe('input [1, 512] (model [?, ?]), state [2, 1, 128] (model [2, ?, 128])');
  });
});
