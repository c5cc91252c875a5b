/**
 * The README's set-up command that runs the server works as written in this checkout: it is read
 * from the "Set up" block (the line whose comment says it runs the server), run through a shell,
 * and must serve /healthz, keep its sessions where the comment says, and stop on Ctrl-C. Only the
 * port is moved, through RELIVE_PORT, so that a developer's own relive on 8765 does not collide.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { childEnv } from '../helpers/run-process.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function serverCommand(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const setUp = readme.slice(readme.indexOf('## Set up'));
  const block = /```sh\n([\s\S]*?)```/.exec(setUp)?.[1] ?? '';
  const line = block.split('\n').find((l) => /#.*runs the server/.test(l));
  assert.ok(line, 'the Set up block has a line that runs the server');
  return line.slice(0, line.indexOf('#')).trim();
}

test("the README's command that runs the server serves /healthz from this checkout, and stops on SIGINT", async () => {
  const command = serverCommand();
  // Its own process group, so that SIGINT reaches npm and the server as a terminal's Ctrl-C would.
  const child = spawn('sh', ['-c', command], { cwd: root, env: childEnv({ RELIVE_PORT: '0' }), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // 'close': the process is gone and its output read to the end.
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  const lines: string[] = [];
  const listening = new Promise<string | undefined>((resolve) => {
    createInterface({ input: child.stdout })
      .on('line', (line) => {
        lines.push(line);
        const entry = line.startsWith('{') ? (JSON.parse(line) as { url?: string; msg?: string }) : undefined;
        if (entry?.url && entry.msg?.startsWith('relive listening')) resolve(entry.url);
      })
      .on('close', () => resolve(undefined));
  });
  try {
    const url = await listening;
    assert.ok(url, `${command} printed no listening line:\n${lines.join('\n')}\n${stderr}`);
    const health = (await (await fetch(`${url}/healthz`)).json()) as { status: string };
    assert.equal(health.status, 'ok');
    assert.ok(existsSync(join(root, '.relive', 'relive.db')), 'sessions are kept in ./.relive/relive.db');
    process.kill(-child.pid!, 'SIGINT');
    await exited;
    // relive itself (under npm and sh, which may die of the signal) stopped cleanly, and nothing of the group is left.
    assert.ok(lines.some((l) => l.includes('"msg":"stopped"')), lines.join('\n'));
    assert.throws(() => process.kill(-child.pid!, 0), { code: 'ESRCH' });
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // The group is already gone.
      }
    }
  }
});
