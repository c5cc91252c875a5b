/** Runs the `relive` command as a child process, as a user would, and reads its log lines. */
import { spawn } from 'node:child_process';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** `bin`: another copy of main.js (an install laid out differently); default this checkout's. */
export function startBin(args: string[], env: NodeJS.ProcessEnv = {}, bin = BIN) {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buffer = '';
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        lines.push(line);
        const entry = JSON.parse(line) as { url?: string; msg: string };
        if (entry.url && entry.msg.startsWith('relive listening')) resolve(entry.url);
      }
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  running.add(child);
  void exited.then(() => running.delete(child));
  return { child, lines, listening, exited };
}

/** Children still running when a test fails would keep the test process alive. */
const running = new Set<ReturnType<typeof spawn>>();
after(() => {
  for (const child of running) child.kill('SIGKILL');
});
