// onnx.checker from Debian's python3-onnx: an independent judge of model validity.
// One python process checks a whole batch.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const PYTHON = '/usr/bin/python3';

const SCRIPT = `
import json, sys, onnx
out = {}
for path in json.load(sys.stdin):
    try:
        onnx.checker.check_model(onnx.load(path))
        out[path] = None
    except Exception as e:
        out[path] = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
print(json.dumps(out))
`;

export function checkerAvailable(): boolean {
  return existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import onnx'], { encoding: 'utf8' }).status === 0;
}

/** path -> null when onnx.checker accepts the model, else its first error line. */
export function runChecker(paths: string[]): Record<string, string | null> {
  const r = spawnSync(PYTHON, ['-c', SCRIPT], { input: JSON.stringify(paths), encoding: 'utf8', maxBuffer: 64 << 20, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`onnx.checker run failed: ${r.stderr.slice(0, 500)}`);
  return JSON.parse(r.stdout);
}

/** The checker in python3-onnx 1.12 knows IR <= 8 and opset <= 17. */
export function checkerCanJudge(irVersion: number, opset: number | undefined): boolean {
  return irVersion <= 8 && (opset ?? 0) <= 17;
}
