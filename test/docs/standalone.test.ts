/**
 * The product's docs stand alone: README.md and docs/*.md name no file outside this repository
 * (the team's design notes are not shipped), every relative link lands on a file and heading that
 * exist, and the close table of docs/protocol.md is the code's own catalogue.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CloseReasons } from '../../src/protocol/close-codes.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const docs = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchors(markdown: string): Set<string> {
  return new Set([...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1]!)));
}

test('no doc names a file that is not in this repository', () => {
  const outside = /\b(PROTOCOL|DESIGN|AUDIO|LANDSCAPE|CLIENTS)\.md\b|\.\.\/shared\b/;
  const found = docs.flatMap((file) =>
    readFileSync(join(root, file), 'utf8')
      .split('\n')
      .flatMap((line, i) => (outside.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
  );
  assert.deepEqual(found, []);
});

test('every relative link in the docs lands on a file and a heading that exist', () => {
  const broken: string[] = [];
  for (const file of docs) {
    const text = readFileSync(join(root, file), 'utf8').replace(/^```[\s\S]*?^```$/gm, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(target!)) continue;
      const [path, hash] = target!.split('#') as [string, string | undefined];
      const resolved = path === '' ? join(root, file) : join(root, dirname(file), path);
      if (!existsSync(resolved)) broken.push(`${file}: ${target} (no such file)`);
      else if (hash && resolved.endsWith('.md') && !anchors(readFileSync(resolved, 'utf8')).has(hash)) broken.push(`${file}: ${target} (no such heading)`);
    }
  }
  assert.deepEqual(broken, []);
});

test('docs/protocol.md lists every named close with its code and exact reason', () => {
  const text = readFileSync(join(root, 'docs', 'protocol.md'), 'utf8');
  for (const [name, { code, reason }] of Object.entries(CloseReasons)) {
    const row = text.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
    assert.ok(row, `no row for ${name}`);
    assert.ok(row.includes(`| ${code} |`), `${name}: code ${code}`);
    if (reason) assert.ok(row.includes(`\`${reason}\``), `${name}: reason ${reason}`);
  }
});
