/**
 * The README's command-line block and the bin's own --help agree: every command `relive --help`
 * names has a line in the block, and each command's flags in the block are exactly the ones its
 * --help lists. (Written by hand for readability, so this test is what keeps it from drifting.)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BIN } from '../helpers/bin.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

async function help(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [BIN, ...args, '--help']);
  return stdout;
}

/** The flags a --help text lists as options: lines that start with a flag after indentation. */
function helpFlags(text: string): Set<string> {
  const flags = [...text.matchAll(/^ {2,}(?:-\w, )?(--[a-z][a-z0-9-]*)/gm)].map((m) => m[1]!);
  return new Set(flags.filter((f) => f !== '--help'));
}

/** The README block's lines grouped by command: a line starting `relive X` opens command X. */
function readmeCommands(): Map<string, Set<string>> {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = /^## Command line\n\n```\n([\s\S]*?)^```$/m.exec(readme)?.[1];
  assert.ok(block, 'README.md has a "## Command line" block');
  const commands = new Map<string, Set<string>>();
  let current: Set<string> | undefined;
  for (const line of block.split('\n')) {
    const opened = /^relive (?:\[(serve)\]|([a-z][a-z-]*))/.exec(line);
    if (opened) commands.set(opened[1] ?? opened[2]!, (current = new Set()));
    else if (line.startsWith('relive ')) current = undefined; // relive --version | --help
    for (const [flag] of line.replace(/#.*/, '').matchAll(/--[a-z][a-z0-9-]*/g)) current?.add(flag);
  }
  return commands;
}

test('every command of relive --help has a line in the README block, with the flags its --help lists', async () => {
  const commands = readmeCommands();
  const named = [...(await help()).matchAll(/^ {2}relive (?:\[(serve)\]|([a-z][a-z-]*))/gm)].map((m) => m[1] ?? m[2]!);
  assert.ok(named.includes('serve') && named.includes('chat') && named.includes('replay'), named.join(', '));
  for (const command of named) {
    const documented = commands.get(command);
    assert.ok(documented, `README's command-line block has no line for relive ${command}`);
    const listed = helpFlags(await help(command));
    assert.deepEqual([...documented].sort(), [...listed].sort(), `relive ${command}: README block vs --help`);
  }
});
