/**
 * The server module takes its adapters and imports none (issue #15 item 7): read from its source,
 * so that an import added for convenience fails here rather than bringing back a composition root
 * split between two places.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/** The checkout's root: the nearest directory above this file with a package.json (from test/ or its compiled copy). */
function checkoutRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}
const ROOT = checkoutRoot();
const SRC = join(ROOT, 'src');

/** Every module a TypeScript file imports, statically or with import(), type-only imports included. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s+'([^']+)'/gm), ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]!);
  return specifiers.map((s) => (s.startsWith('.') ? relative(SRC, resolve(dirname(file), s)) : s));
}

const ADAPTER_DIRS = ['engine', 'media', 'store', 'cluster', 'tokenizer'];

test('src/server/create-server.ts imports no module under src/engine, src/media, src/store, src/cluster or src/tokenizer', () => {
  const imports = importsOf(join(SRC, 'server', 'create-server.ts'));
  assert.ok(imports.includes('server/connection.js'), `the reader sees the imports: ${imports.join(', ')}`);
  const adapters = imports.filter((m) => ADAPTER_DIRS.some((dir) => m.startsWith(`${dir}/`)));
  assert.deepEqual(adapters, []);
});

test('nothing under src/server imports a preset (src/modes): presets sit above the server module', () => {
  const offenders: string[] = [];
  const files = readdirSync(join(SRC, 'server')).filter((f) => f.endsWith('.ts'));
  assert.ok(files.includes('create-server.ts'), `the sources are read: ${files.join(', ')}`);
  for (const file of files) {
    for (const m of importsOf(join(SRC, 'server', file))) if (m.startsWith('modes/')) offenders.push(`${file} → ${m}`);
  }
  assert.deepEqual(offenders, []);
});
