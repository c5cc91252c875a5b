/**
 * relive as an app installs it, for the tests of the SDK peer dependency: a scratch app directory
 * whose node_modules holds relive-gemini (its package.json and built dist/src, copied, so that it
 * resolves its imports from the app's node_modules as an installed package does) and relive's own
 * dependencies (symlinks into this checkout's node_modules), but not the official SDK. A test then
 * installs the SDK version it wants with npm, or leaves it out.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { childEnv, runProcess, type Finished } from './run-process.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SDK = '@google/genai';

const made: string[] = [];
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

export interface InstalledRelive {
  /** The app directory: node_modules/ lives here; scripts written here import relive-gemini. */
  readonly app: string;
  /** relive-gemini inside the app's node_modules. */
  readonly relive: string;
  /** The `relive` bin of that copy. */
  readonly bin: string;
}

/** An app directory with relive-gemini installed, optionally with `sdkVersion` of the SDK from npm. */
export async function installRelive(sdkVersion?: string): Promise<InstalledRelive> {
  const app = mkdtempSync(path.join(tmpdir(), 'relive-app-'));
  made.push(app);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true, type: 'module' }));
  // The SDK first, by npm, so that its own dependencies land in the app's node_modules as they would.
  if (sdkVersion !== undefined) await npmInstall(app, `${SDK}@${sdkVersion}`);
  const modules = path.join(app, 'node_modules');
  mkdirSync(modules, { recursive: true });
  const relive = path.join(modules, 'relive-gemini');
  mkdirSync(relive);
  cpSync(path.join(ROOT, 'package.json'), path.join(relive, 'package.json'));
  cpSync(path.join(ROOT, 'dist/src'), path.join(relive, 'dist/src'), { recursive: true });
  for (const entry of readdirSync(path.join(ROOT, 'node_modules'))) {
    if (entry.startsWith('.')) continue;
    const names = entry.startsWith('@') ? readdirSync(path.join(ROOT, 'node_modules', entry)).map((n) => `${entry}/${n}`) : [entry];
    for (const name of names) {
      if (name === SDK) continue;
      const target = path.join(modules, name);
      mkdirSync(path.dirname(target), { recursive: true });
      try {
        symlinkSync(path.join(ROOT, 'node_modules', name), target);
      } catch (err) {
        // The SDK's install already brought this one (ws, …): the app's copy stays.
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  }
  return { app, relive, bin: path.join(relive, 'dist/src/cli/main.js') };
}

/** `npm install` of `spec` into `dir`, from the registry (npm's cache first). */
async function npmInstall(dir: string, spec: string): Promise<void> {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const args = ['install', '--prefix', dir, '--no-audit', '--no-fund', '--no-save', '--ignore-scripts', '--prefer-offline', '--loglevel=error', spec];
  const { code, stdout, stderr } = await runProcess(npm, args, { cwd: dir, env: childEnv() });
  if (code !== 0) throw new Error(`npm install ${spec} failed (${code}): ${stdout}${stderr}`);
}

/** Runs node with `args` in `cwd` and collects its output. */
export function runNode(args: string[], cwd: string, stdin = ''): Promise<Finished> {
  return runProcess(process.execPath, args, { cwd, stdin });
}
