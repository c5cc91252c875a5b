/**
 * The system packages some tests need and npm cannot bring: Debian's redis-server (the Redis
 * store and the cluster) and pocketsphinx with its en-us model (input transcription). Each is
 * probed once per process (node --test runs every file in a process of its own), the way relive
 * itself finds it.
 *
 * Missing, a test that needs one is skipped with one line naming the package and the command that
 * installs it, so `npm test` passes on a fresh machine; the test script's skip-summary reporter
 * adds up the skips at the end. CI installs the packages and sets RELIVE_TEST_REQUIRE_ALL=1, under
 * which a missing package is a failing test instead, so CI cannot go green by skipping.
 *
 *   describe('RedisStore', needs('redis-server'), () => { ... });
 *   test('transcribes', { ...needs('pocketsphinx'), timeout: 10_000 }, async () => { ... });
 */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DEFAULT_POCKETSPHINX_COMMAND, DEFAULT_POCKETSPHINX_MODEL_DIR, unavailableReason } from '../../src/media/stt/pocketsphinx.js';

export type SystemPackage = 'redis-server' | 'pocketsphinx';

/** The environment variable under which a missing package fails the run instead of skipping. */
export const REQUIRE_ALL_VARIABLE = 'RELIVE_TEST_REQUIRE_ALL';

const INSTALL: Record<SystemPackage, string> = {
  'redis-server': 'apt-get install redis-server',
  pocketsphinx: 'apt-get install pocketsphinx pocketsphinx-en-us',
};

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    if (!dir) return false;
    const file = path.join(dir, command);
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  });
}

const PROBES: Record<SystemPackage, () => string | undefined> = {
  'redis-server': () => (onPath('redis-server') ? undefined : 'redis-server not found on PATH'),
  pocketsphinx: () => unavailableReason(DEFAULT_POCKETSPHINX_COMMAND, DEFAULT_POCKETSPHINX_MODEL_DIR),
};

const probed = new Map<SystemPackage, string | undefined>();
const reported = new Set<SystemPackage>();

/** Why `pkg` cannot be used here (one line, with the command that installs it), or undefined when it can. */
export function missing(pkg: SystemPackage): string | undefined {
  if (!probed.has(pkg)) probed.set(pkg, PROBES[pkg]());
  const why = probed.get(pkg);
  return why === undefined ? undefined : `needs ${pkg}, which is not installed (${why}): ${INSTALL[pkg]}`;
}

export function requireAll(): boolean {
  const value = process.env[REQUIRE_ALL_VARIABLE];
  return value !== undefined && value !== '' && value !== '0';
}

/**
 * Test or describe options: `{}` when every package is there, else `{ skip: reason }`. Under
 * RELIVE_TEST_REQUIRE_ALL the unit is still not run (it would only fail slowly and obscurely), and
 * a test named for the package fails in its place, once per package and file.
 */
export function needs(...packages: SystemPackage[]): { skip?: string } {
  const reasons = packages.flatMap((pkg) => {
    const why = missing(pkg);
    return why === undefined ? [] : [{ pkg, why }];
  });
  if (reasons.length === 0) return {};
  if (requireAll()) {
    for (const { pkg, why } of reasons) {
      if (reported.has(pkg)) continue;
      reported.add(pkg);
      test(`system package ${pkg} is installed (${REQUIRE_ALL_VARIABLE} is set)`, () => {
        throw new Error(`${REQUIRE_ALL_VARIABLE} is set, so tests may not be skipped, and this file ${why}`);
      });
    }
  }
  return { skip: reasons.map((r) => r.why).join('; ') };
}
