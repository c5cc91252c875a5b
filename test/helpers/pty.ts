/**
 * Runs the `relive` command on a pseudo-terminal, as a person at a terminal does: util-linux
 * `script` gives it a terminal for stdout and stdin, and keys typed into `script` reach that
 * terminal (Ctrl-C becomes a SIGINT from the terminal driver).
 */
import { spawn, spawnSync } from 'node:child_process';
import { after } from 'node:test';
import { BIN } from './bin.js';

/** Whether util-linux `script` is installed (Debian: bsdutils). */
export const HAS_SCRIPT = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

/** A line as the terminal shows it: colours and the echoed ^C removed. */
function plain(line: string): string {
  // eslint-disable-next-line no-control-regex
  return line.replace(/\u001b\[[0-9;]*m/g, '').replace(/\r/g, '').replace(/^(\^C)+/, '');
}

export function startBinInPty(args: string[], env: NodeJS.ProcessEnv = {}) {
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  // exec: the terminal's foreground process is relive itself, not a shell that would take the ^C.
  const command = `exec ${[process.execPath, BIN, ...args].map(quote).join(' ')}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buffer = '';
  const waiters: { pred: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  child.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = plain(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.pred(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  // 'close', not 'exit': every line of the output has been read by then.
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  running.add(child);
  void exited.then(() => running.delete(child));
  return {
    child,
    lines,
    exited,
    /** The first line, seen or to come, that passes `pred`. */
    line(pred: (l: string) => boolean): Promise<string> {
      const seen = lines.find(pred);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ pred, resolve });
        void exited.then(() => reject(new Error(`exited before the line; output:\n${lines.join('\n')}`)));
      });
    },
    /** Keys typed at the terminal: '\x03' is Ctrl-C. */
    type(keys: string): void {
      child.stdin.write(keys);
    },
  };
}

const running = new Set<ReturnType<typeof spawn>>();
after(() => {
  for (const child of running) child.kill('SIGKILL');
});
