// What one adapter is: how one op changed at one opset version, as data. The driver
// hands it a working copy of the node in the form of the version just below
// `sinceVersion`; the adapter leaves it in the form of `sinceVersion` (possibly under a
// new op type) or returns why that cannot be done exactly.
import type { Node } from '../../ir/graph.js';
import type { AdaptContext } from './context.js';

export interface Adapter {
  op: string;
  /** The opset version that introduced the change. */
  sinceVersion: number;
  /** Rewrites `node` in place; a string is a refusal: why the change cannot be carried exactly. */
  adapt(node: Node, ctx: AdaptContext): string | void;
}

/** One adapter per op for the same change. */
export function forOps(ops: string[], sinceVersion: number, adapt: Adapter['adapt']): Adapter[] {
  return ops.map((op) => ({ op, sinceVersion, adapt }));
}
