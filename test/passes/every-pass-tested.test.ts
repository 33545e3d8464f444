import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { allPasses } from '../../passes/index.js';

// Each registered pass has its own table test/passes/<pass>.test.ts (see helpers/pass-tester.ts).
describe('pass tests', () => {
  it('every registered pass has its own test file', () => {
    const missing = allPasses.map((p) => p.name).filter((name) => !existsSync(fileURLToPath(new URL(`./${name}.test.ts`, import.meta.url))));
    expect(missing).toEqual([]);
  });
});
