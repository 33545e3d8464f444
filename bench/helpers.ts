// Shared bits of the benchmarks: where the real models are, and printing tables.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const SHARED = resolve('../shared/models');

export function requireShared(): void {
  if (!existsSync(SHARED)) {
    console.error(`${SHARED} is missing: the benchmarks run on the shared real models beside the checkout`);
    process.exit(2);
  }
}

export function printTable(title: string, rows: Record<string, unknown>[]): void {
  console.log(`\n${title}`);
  console.table(rows);
}
