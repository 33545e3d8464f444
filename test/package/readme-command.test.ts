// The README's test command is one line, and it is the line .ci/run runs (.ci/run reads it
// from README.md): it installs the system packages the tests look for, then npm ci && npm test.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const CI = readFileSync(new URL('../../.ci/run', import.meta.url), 'utf8');

describe("the README's test command", () => {
  it('is one line that .ci/run finds, installing what the tests use, ending in npm ci && npm test', () => {
    const lines = README.split('\n').filter((l) => l.startsWith('sudo apt-get update && '));
    expect(lines).toHaveLength(1);
    expect(CI).toContain("grep -m1 '^sudo apt-get update && ' README.md");
    const line = lines[0]!;
    for (const pkg of ['libonnx-testdata', 'python3-onnx', 'python3-numpy', 'chromium']) expect(line.split(' ')).toContain(pkg);
    expect(line).toMatch(/ && npm ci && npm test$/);
  });
});
