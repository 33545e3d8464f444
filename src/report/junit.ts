// JUnit XML: one test case per tolerance, so CI systems show which one broke.
import type { Verdict } from '../verdict.js';
import { describeCheck } from '../verdict.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function renderJunit(suite: string, verdict: Verdict): string {
  const cases = verdict.checks.map((c) => {
    const name = esc(c.metric);
    return c.pass
      ? `    <testcase classname="${esc(suite)}" name="${name}"/>`
      : `    <testcase classname="${esc(suite)}" name="${name}">\n      <failure message="${esc(describeCheck(c))}"/>\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites tests="${verdict.checks.length}" failures="${verdict.failed.length}">`,
    `  <testsuite name="${esc(suite)}" tests="${verdict.checks.length}" failures="${verdict.failed.length}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
