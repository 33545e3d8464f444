// Writes report files atomically: temp file beside the target, then rename.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CompressReport } from './build.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';

export function writeFileAtomic(file: string, content: string | Uint8Array): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, content);
    renameSync(temp, file);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

/** report.json (without raw timing samples), report.md and a self-contained report.html. */
export function writeReports(dir: string, report: CompressReport): string[] {
  const data = JSON.stringify(report, (k, v) => (k === 'samplesMs' ? undefined : v), 2) + '\n';
  const files = [join(dir, 'report.json'), join(dir, 'report.md'), join(dir, 'report.html')];
  writeFileAtomic(files[0]!, data);
  writeFileAtomic(files[1]!, renderMarkdown(report));
  writeFileAtomic(files[2]!, renderHtml(report));
  return files;
}
