// Moving attributes into inputs, the most common change between opsets.
import { attr, type Node } from '../../../ir/graph.js';
import { setInput as setIrInput } from '../../../ir/mutate.js';
import type { AdaptContext } from '../context.js';

/** Sets `node.inputs[index]`, padding skipped optional inputs with '' and dropping trailing empty ones. */
export function setInput(node: Node, index: number, name: string): void {
  setIrInput(node, index, name);
  while (node.inputs.length && node.inputs[node.inputs.length - 1] === '') node.inputs.pop();
}

/** Moves an INTS attribute to an int64 input at `index` ('' left when the attribute is absent). */
export function intsAttrToInput(node: Node, ctx: AdaptContext, attrName: string, index: number): void {
  const values = node.attr(attrName)?.ints;
  node.removeAttr(attrName);
  if (values !== undefined) setInput(node, index, ctx.ints(`${baseName(node)}_${attrName}`, values));
}

/** A readable stem for the names of values made for a node. */
export function baseName(node: Node): string {
  return node.name || node.outputs[0] || node.opType;
}

/** Emits Squeeze/Unsqueeze over `axes` in the form of the target opset (axes an input from 13). */
export function emitAxesOp(ctx: AdaptContext, where: 'before' | 'after', opType: 'Squeeze' | 'Unsqueeze', input: string, output: string, axes: number[]): void {
  if (ctx.targetOpset >= 13) ctx.emit(where, { opType, inputs: [input, ctx.ints(`${output}_axes`, axes)], outputs: [output] });
  else ctx.emit(where, { opType, inputs: [input], outputs: [output], attributes: [attr.ints('axes', axes)] });
}
