// The package as a user gets it: `npm pack` (which builds dist/ on prepack), then
// `npm install --omit=dev` of the tarball into a scratch project. Packing runs in a copy
// of the checkout, so no dist/ is left behind for the checkout's own CLI runs.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const NOT_COPIED = new Set(['node_modules', 'dist', '.git', 'test-artifacts', join('models', 'build'), join('bench', 'out')]);

export interface Run { code: number; stdout: string; stderr: string; all: string }

export function run(cmd: string, args: string[], cwd: string): Run {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, npm_config_update_notifier: 'false' } });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '', all: `${r.stdout}\n${r.stderr}\n${r.error ?? ''}` };
}

export interface Installed {
  /** Temp folder holding everything below; `remove()` deletes it. */
  work: string;
  tarball: string;
  /** The scratch project the tarball is installed in. */
  app: string;
  remove(): void;
}

/** Packs the checkout and installs the tarball, without dev dependencies, into a scratch project. */
export function packAndInstall(): Installed {
  const work = mkdtempSync(join(tmpdir(), 'onnxpress-pack-'));
  const remove = () => rmSync(work, { recursive: true, force: true });
  try {
    const src = join(work, 'checkout');
    cpSync(REPO, src, { recursive: true, filter: copied });
    // The build (tsc) needs the dev dependencies; the installed package gets none.
    symlinkSync(realpathSync(join(REPO, 'node_modules')), join(src, 'node_modules'));
    must(run('npm', ['pack', '--pack-destination', work, '--prefer-offline', '--no-audit', '--no-fund'], src), 'npm pack');
    const tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz'))!);
    const app = join(work, 'app');
    cpSync(join(REPO, '.npmrc'), join(app, '.npmrc')); // onnxruntime-node-install=skip: no GPU download
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
    must(run('npm', ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', tarball], app), 'npm install');
    return { work, tarball, app, remove };
  } catch (err) {
    remove();
    throw err;
  }
}

function copied(path: string): boolean {
  const parts = relative(REPO, path).split(sep);
  return !NOT_COPIED.has(parts[0]!) && !NOT_COPIED.has(parts.slice(0, 2).join(sep));
}

function must(r: Run, what: string): void {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.all}`);
}
