import type { CliCommand } from './command.js';
import { printJson } from './command.js';
import { parseNumber } from './parse.js';
import { verifyLock, type VerifyResult } from '../verify.js';

export const verifyCommand: CliCommand = {
  name: 'verify',
  register(program, setExitCode) {
    program
      .command('verify')
      .description('rebuild a compress run from its onnxpress.lock.json: same inputs, same bytes, same verdict (exit 1 on a difference)')
      .argument('<lock>', 'the onnxpress.lock.json compress wrote')
      .option('--runs <n>', 'timed runs per model for the gate (default: the locked count)')
      .option('--json', 'print the result as one JSON object')
      .action(async (lockFile: string, f: { runs?: string; json?: boolean }) => {
        const result = await verifyLock(lockFile, {
          benchRuns: f.runs === undefined ? undefined : parseNumber('--runs', f.runs, { min: 5 }),
          log: f.json ? undefined : (s) => process.stderr.write(`${s}\n`),
        });
        if (f.json) printJson({ ok: result.ok, inputs: result.inputs, versions: result.versions, bytes: result.bytes, verdict: result.verdict, gate: result.gate.verdict });
        else process.stdout.write(renderVerify(result) + '\n');
        setExitCode(result.ok ? 0 : 1);
      });
  },
};

export function renderVerify(r: VerifyResult): string {
  const lines: string[] = [];
  const diff = (kind: string, d: { what: string; expected: string; found: string }) => `${kind}: ${d.what}: expected ${d.expected}, found ${d.found}`;
  for (const d of r.inputs) lines.push(diff('changed input', d));
  for (const d of r.versions) lines.push(diff('note: changed tool', d));
  for (const d of r.bytes) lines.push(diff('different bytes', d));
  const v = (x: { pass: boolean; failed: string[] }) => (x.pass ? 'PASS' : `FAIL (${x.failed.join(', ')})`);
  lines.push(r.bytes.length ? 'output: NOT reproduced' : `output: reproduced byte for byte (sha256 ${r.lock.output.model.sha256.slice(0, 12)}...)`);
  lines.push(r.verdict.same ? `verdict: same, ${v(r.verdict.found)}` : `verdict: CHANGED: locked ${v(r.verdict.expected)}, now ${v(r.verdict.found)}`);
  lines.push(r.ok ? 'verify: OK' : 'verify: DIFFERS');
  return lines.join('\n');
}
