/**
 * The package as an app gets it. The first test imports it by name from inside the checkout; the
 * rest work on `npm pack` of this checkout, installed from the tarball (`npm install
 * ../relive-gemini-0.1.0.tgz`, the README's path until it is published) into a fresh app project
 * under the system temp directory, next to typescript, @types/node and @google/genai from the warm
 * npm cache. In it, every ts/js block of the shipped README.md and docs/*.md that imports the
 * package is type-checked by the app's own tsc (`strict`, no `skipLibCheck`), and the README's
 * library and client examples run, against a relive started with `npx relive` from the app.
 *
 * One install for the whole file (the `before` hook). It runs with `--ignore-scripts`: of the
 * dependencies' install scripts, onnxruntime-node's only downloads CUDA providers (skipped by the
 * docs' own advice), protobufjs's only prints a version warning, and better-sqlite3's compiles its
 * native module from source (about a minute here). That module is instead copied from this
 * checkout's better-sqlite3 when it is the same version — the same source built for the same Node
 * on the same machine — and compiled (`npm rebuild`) otherwise. Everything the app runs is the
 * installed package's own code, SQLite included (`npx relive` keeps its sessions in SQLite).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GoogleGenAI, Modality } from '@google/genai';
import { childEnv, runProcess, type Finished } from './helpers/run-process.js';

test('the package exports relive (createServer) and relive-gemini/protocol (parser, encoder)', async () => {
  const relive = await import('relive-gemini');
  const protocol = await import('relive-gemini/protocol');
  assert.equal(typeof relive.createServer, 'function');
  assert.equal(typeof protocol.parseClientJson, 'function');
  assert.equal(typeof protocol.encodeServerMessage, 'function');
  const server = relive.createServer({ port: 0, logger: false });
  const { url } = await server.listen();
  const health = (await (await fetch(`${url}/healthz`)).json()) as { status: string };
  assert.equal(health.status, 'ok');
  await server.close();
});

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  bin: Record<string, string>;
  exports: Record<string, { types: string; default: string }>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

type Run = Finished;

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return runProcess(command, args, { cwd, env: childEnv({ ONNXRUNTIME_NODE_INSTALL: 'skip', ...env }) });
}

async function mustRun(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const r = await run(command, args, cwd, env);
  assert.equal(r.code, 0, `${command} ${args.join(' ')} (in ${cwd}) exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

interface Block {
  /** e.g. docs/client.md:90 */
  where: string;
  lang: 'ts' | 'js';
  code: string;
}

/** The ts and js blocks of a markdown page. */
function codeBlocks(page: string, markdown: string): Block[] {
  return [...markdown.matchAll(/^```(ts|js)\n([\s\S]*?)^```$/gm)].map((m) => ({
    where: `${page}:${markdown.slice(0, m.index).split('\n').length}`,
    lang: m[1] as 'ts' | 'js',
    code: m[2]!,
  }));
}

const importsPackage = (code: string) => /from '(relive-gemini|@google\/genai)[^']*'/.test(code);
const fileName = (where: string) => where.replace(/[/.:]/g, '-');

/**
 * Names the docs' snippets leave to the reader's app, declared so that the snippets type-check as
 * written. A module's own declaration of the same name shadows these.
 */
const PLACEHOLDERS = `
declare const model: string;
declare const config: import('@google/genai').LiveConnectConfig;
declare const callbacks: import('relive-gemini/client').ResilientCallbacks;
declare const apiKey: string;
declare const baseUrl: string;
declare const ephemeralToken: string;
declare function playAndShow(message: import('@google/genai').LiveServerMessage): void;
declare function showConnectionState(event: import('relive-gemini/client').LifecycleEvent): void;
declare const microphone: { ondata: (pcm16k: Int16Array) => void };
declare function toBase64(pcm: Int16Array): string;
`;

/** Appended to the README's library example: a turn from the SDK, the protocol exports used, the server closed. */
const LIBRARY_HARNESS = `
// harness: one turn through the docs' server, then it closes
import { GoogleGenAI as HarnessGenAI, Modality as HarnessModality } from '@google/genai';
const harnessParsed = parseClientJson(JSON.stringify({ setup: { model: 'models/gemini-live-2.5-flash-preview' } }));
const harnessEncoded = encodeServerMessage({ setupComplete: {} }).toString();
const harnessAi = new HarnessGenAI({ apiKey: 'harness-key', httpOptions: { baseUrl: url } });
let harnessText = '';
const harnessDone = new Promise<void>((resolve, reject) => {
  void harnessAi.live
    .connect({
      model: 'gemini-live-2.5-flash-preview',
      config: { responseModalities: [HarnessModality.TEXT] },
      callbacks: {
        onmessage: (m) => {
          harnessText += m.text ?? '';
          if (m.serverContent?.turnComplete) resolve();
        },
        onclose: (e) => reject(new Error(\`closed \${e.code} \${e.reason}\`)),
      },
    })
    .then((s) => {
      s.sendClientContent({ turns: 'Hello from the library example' });
      return harnessDone.then(() => s.close());
    }, reject);
});
await harnessDone;
await server.close();
console.log(JSON.stringify({ text: harnessText, parsed: harnessParsed.ok, encoded: JSON.parse(harnessEncoded) }));
`;

/** Before the README's client example: what it leaves to the app (a browser's localStorage: Node has none). */
const CLIENT_PRELUDE = `
// harness: the app around the README's client example
import { Modality as HarnessModality } from '@google/genai';
import type { ResilientCallbacks as HarnessCallbacks } from 'relive-gemini/client';
const harnessItems = new Map<string, string>();
const harnessWaiters: (() => void)[] = [];
Object.defineProperty(globalThis, 'localStorage', {
  configurable: true,
  value: {
    getItem: (key: string) => harnessItems.get(key) ?? null,
    setItem: (key: string, value: string) => {
      harnessItems.set(key, value);
      for (const wake of harnessWaiters.splice(0)) wake();
    },
    removeItem: (key: string) => void harnessItems.delete(key),
  },
});
async function harnessStoredWhen(ok: (stored: { handle: string; transcript?: unknown[] }) => boolean) {
  for (;;) {
    const raw = harnessItems.get('my-session');
    if (raw !== undefined && ok(JSON.parse(raw))) return JSON.parse(raw);
    await new Promise<void>((wake) => harnessWaiters.push(wake));
  }
}
const model = 'gemini-live-2.5-flash-preview';
const config = { responseModalities: [HarnessModality.TEXT] };
const apiKey = 'readme-key';
const baseUrl = process.env.RELIVE_URL!;
let harnessText = '';
let harnessTurnDone!: () => void;
const harnessTurn = new Promise<void>((resolve) => (harnessTurnDone = resolve));
const callbacks: HarnessCallbacks = {
  onmessage: (m) => {
    harnessText += m.text ?? '';
    if (m.serverContent?.turnComplete) harnessTurnDone();
  },
  onclose: (e) => console.error('closed', e.code, e.reason),
};
`;

/** After it: one turn, then what the handle store kept. */
const CLIENT_HARNESS = `
// harness: one turn, and the handle the store kept for it
session.sendClientContent({ turns: 'Remember the number 42.' });
await harnessTurn;
const harnessStored = await harnessStoredWhen((s) => (s.transcript?.length ?? 0) >= 2);
session.close();
console.log(JSON.stringify({ text: harnessText, stored: harnessStored }));
`;

/** README's @google/genai example names relive's default address; the test's relive listens elsewhere. */
const DOCS_ADDRESS = 'http://127.0.0.1:8765';

describe('installed from `npm pack` into a fresh app project', () => {
  let tmp: string;
  let app: string;
  let packed: { filename: string; files: { path: string }[] };
  let typecheck: { ts: Run; js: Run };
  let blocks: Block[];
  const runFiles = { library: '', client: '', sdk: '' };
  let relive: ChildProcess | undefined;
  let reliveUrl: string;

  before(
    async () => {
      tmp = mkdtempSync(join(tmpdir(), 'relive-app-'));
      // --ignore-scripts: `prepare` would rebuild dist/ under the running tests; it is built already.
      const pack = await mustRun('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], root);
      packed = (JSON.parse(pack.stdout) as (typeof packed)[])[0]!;

      app = join(tmp, 'app');
      mkdirSync(app);
      writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'docs-app', private: true, type: 'module' }, null, 2));
      await mustRun(
        'npm',
        [
          'install',
          '--prefer-offline',
          '--ignore-scripts',
          '--no-audit',
          '--no-fund',
          '--save-dev',
          `../${packed.filename}`,
          `typescript@${manifest.devDependencies.typescript}`,
          `@types/node@${manifest.devDependencies['@types/node']}`,
          `@google/genai@${manifest.devDependencies['@google/genai']}`,
        ],
        app,
      );
      await installSqliteBinary(app);

      const installed = join(app, 'node_modules', manifest.name);
      const pages = ['README.md', ...readdirSync(join(installed, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
      blocks = [];
      for (const page of pages) {
        const all = codeBlocks(page, readFileSync(join(installed, page), 'utf8'));
        // A page's js blocks are one program (docs/testing.md's recipes build on its set-up block).
        const js = all.filter((b) => b.lang === 'js');
        if (js.some((b) => importsPackage(b.code))) blocks.push({ where: page, lang: 'js', code: js.map((b) => b.code).join('\n') });
        blocks.push(...all.filter((b) => b.lang === 'ts' && importsPackage(b.code)));
      }
      mkdirSync(join(app, 'blocks'));
      mkdirSync(join(app, 'run'));
      for (const b of blocks) writeFileSync(join(app, 'blocks', `${fileName(b.where)}.${b.lang}`), b.code);
      writeFileSync(join(app, 'blocks', 'placeholders.d.ts'), PLACEHOLDERS);

      const readme = blocks.filter((b) => b.where.startsWith('README.md:'));
      const library = readme.find((b) => b.code.includes('createServer(') && b.code.includes('ManualClock'));
      const client = readme.find((b) => b.code.includes('connectResilient('));
      const sdk = readme.find((b) => b.code.includes('ai.live.connect(') && !b.code.includes('relive-gemini'));
      assert.ok(library && client && sdk, `README's library, client and @google/genai examples: ${readme.map((b) => b.where).join(', ')}`);
      assert.ok(sdk.code.includes(DOCS_ADDRESS), `the @google/genai example names ${DOCS_ADDRESS}`);
      writeFileSync(join(app, 'run', 'library.ts'), library.code + LIBRARY_HARNESS);
      writeFileSync(join(app, 'run', 'client.ts'), CLIENT_PRELUDE + client.code + CLIENT_HARNESS);
      writeFileSync(join(app, 'run', 'sdk.ts'), sdk.code.replaceAll(`'${DOCS_ADDRESS}'`, 'process.env.RELIVE_URL!'));
      runFiles.library = join(app, 'out', 'run', 'library.js');
      runFiles.client = join(app, 'out', 'run', 'client.js');
      runFiles.sdk = join(app, 'out', 'run', 'sdk.js');

      const strict = { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, types: ['node'] };
      // TypeScript: strict as it comes, and emitted so that the run/ files can run.
      writeFileSync(
        join(app, 'tsconfig.json'),
        JSON.stringify({ compilerOptions: { ...strict, outDir: 'out', rootDir: '.' }, include: ['blocks/*.ts', 'run/*.ts'] }),
      );
      // JavaScript the way a JS project checks it: every strict check except annotations it cannot write.
      writeFileSync(
        join(app, 'tsconfig.js.json'),
        JSON.stringify({ compilerOptions: { ...strict, allowJs: true, checkJs: true, noImplicitAny: false, noEmit: true }, include: ['blocks/*.js'] }),
      );
      const tsc = join(app, 'node_modules', 'typescript', 'bin', 'tsc');
      const [ts, js] = await Promise.all([run(process.execPath, [tsc, '-p', 'tsconfig.json'], app), run(process.execPath, [tsc, '-p', 'tsconfig.js.json'], app)]);
      typecheck = { ts, js };

      // The README's `npx relive`, from the app: embedded defaults (SQLite under ./.relive/) on a free port.
      // A process group of its own: npx may exit on SIGTERM without passing it on to relive.
      relive = spawn('npx', ['relive', '--port', '0'], { cwd: app, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let stderr = '';
      relive.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const lines = createInterface({ input: relive.stdout! });
      reliveUrl = await new Promise<string>((resolve, reject) => {
        lines.once('line', (line) => {
          const url = (JSON.parse(line) as { url?: string }).url;
          if (url) resolve(url);
          else reject(new Error(`npx relive's first line has no url: ${line}`));
        });
        relive!.once('exit', (code) => reject(new Error(`npx relive exited ${code}: ${stderr}`)));
      });
    },
    { timeout: 170_000 },
  );

  after(async () => {
    if (relive?.pid !== undefined) {
      // 'close' comes once every process holding its pipes, relive included, has exited.
      const closed = new Promise((resolve) => relive!.once('close', resolve));
      try {
        process.kill(-relive.pid, 'SIGTERM');
      } catch {
        // the group is gone already
      }
      await closed;
    }
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('the tarball holds dist/src, README.md and docs — every export and the bin — and nothing of the tests', () => {
    const paths = packed.files.map((f) => f.path);
    const stray = paths.filter((p) => !/^(dist\/src\/.+|docs\/[^/]+\.md|README\.md|package\.json)$/.test(p));
    assert.deepEqual(stray, [], 'only dist/src, docs, README.md and package.json are shipped');
    assert.deepEqual(
      paths.filter((p) => /(^|\/)(test|bench)\//.test(p) || p.endsWith('.test.js')),
      [],
      'no tests or benchmarks',
    );
    for (const page of readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md'))) assert.ok(paths.includes(`docs/${page}`), `docs/${page} is shipped`);
    assert.ok(paths.includes('README.md'));
    const targets = [...Object.values(manifest.exports).flatMap((e) => [e.types, e.default]), ...Object.values(manifest.bin)];
    for (const target of targets) assert.ok(paths.includes(target.replace(/^\.\//, '')), `${target} is shipped`);
  });

  test('the installed bin runs from the app: npx relive --version', async () => {
    const r = await mustRun('npx', ['relive', '--version'], app);
    assert.equal(r.stdout.trim(), manifest.version);
  });

  test("every ts/js block of README.md and docs/*.md that imports the package type-checks in the app (strict, no skipLibCheck)", () => {
    assert.ok(blocks.filter((b) => b.lang === 'ts').length >= 10, `found ${blocks.map((b) => b.where).join(', ')}`);
    assert.ok(blocks.some((b) => b.lang === 'js' && b.where === 'docs/testing.md'), "docs/testing.md's recipes");
    // Every entry point the package exports is shown in some block.
    const shown = new Set(blocks.flatMap((b) => [...b.code.matchAll(/from '(relive-gemini[^']*)'/g)].map((m) => m[1]!)));
    for (const entry of Object.keys(manifest.exports)) assert.ok(shown.has(manifest.name + entry.slice(1)), `a docs block imports ${manifest.name + entry.slice(1)}`);
    assert.equal(typecheck.ts.code, 0, `tsc (TypeScript blocks):\n${typecheck.ts.stdout}${typecheck.ts.stderr}`);
    assert.equal(typecheck.js.code, 0, `tsc (JavaScript blocks):\n${typecheck.js.stdout}${typecheck.js.stderr}`);
  });

  test("docs/testing.md's recipes pass against the installed package", async () => {
    const recipes = join(app, 'recipes.test.js');
    writeFileSync(recipes, blocks.find((b) => b.lang === 'js' && b.where === 'docs/testing.md')!.code);
    const r = await run(process.execPath, ['--test', '--test-reporter=tap', recipes], app);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^# pass [1-9]\d*$/m);
    assert.match(r.stdout, /^# fail 0$/m);
  });

  test("the README's library example runs from the installed package", async () => {
    const r = await mustRun(process.execPath, [runFiles.library], app);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { text: string; parsed: unknown; encoded: unknown };
    // The built-in model greets a hello before it echoes.
    assert.match(out.text, /You said: Hello from the library example$/);
    assert.deepEqual({ parsed: out.parsed, encoded: out.encoded }, { parsed: true, encoded: { setupComplete: {} } });
  });

  test("the README's @google/genai example gets its reply from `npx relive`", async () => {
    const child = spawn(process.execPath, [runFiles.sdk], { cwd: app, env: childEnv({ RELIVE_URL: reliveUrl }), stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    const turnEnded = new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        lines.push(line);
        // The example logs each message's text, or its serverContent when it has none.
        if (/turnComplete: true/.test(line)) resolve();
      });
      child.once('exit', (code) => reject(new Error(`the example exited ${code} before turnComplete: ${lines.join('\n')}`)));
    });
    try {
      await turnEnded;
    } finally {
      child.kill('SIGTERM');
    }
    // Its other lines: the logged serverContent objects, and `undefined` for setupComplete.
    const text = lines.filter((l) => l !== 'undefined' && !l.startsWith('{')).join('');
    assert.match(text, /You said: Hello world!$/);
  });

  test("the README's client example keeps a handle that resumes the session on `npx relive`", async () => {
    const r = await mustRun(process.execPath, [runFiles.client], app, { RELIVE_URL: reliveUrl });
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { text: string; stored: { handle: string; model: string } };
    assert.equal(out.text, 'You said: Remember the number 42.');
    assert.equal(out.stored.model, 'gemini-live-2.5-flash-preview');

    // The handle the example's store kept resumes that session, from SQLite, with its turn.
    const ai = new GoogleGenAI({ apiKey: 'readme-key', httpOptions: { baseUrl: reliveUrl } });
    let sessionId: string | undefined;
    const turn = new Promise<void>((resolve, reject) => {
      void ai.live
        .connect({
          model: out.stored.model,
          config: { responseModalities: [Modality.TEXT], sessionResumption: { handle: out.stored.handle } },
          callbacks: {
            onmessage: (m) => {
              sessionId ??= m.setupComplete?.sessionId;
              if (m.serverContent?.turnComplete) resolve();
            },
            onclose: (e) => reject(new Error(`resume closed ${e.code} ${e.reason}`)),
          },
        })
        .then((s) => {
          s.sendClientContent({ turns: 'Which number?' });
          return turn.then(() => s.close());
        }, reject);
    });
    await turn;
    assert.ok(sessionId, 'setupComplete names the session');
    const detail = (await (await fetch(`${reliveUrl}/relive/v1/sessions/${sessionId}`)).json()) as { context: { role: string; parts: { text?: string }[] }[] };
    assert.deepEqual(
      detail.context.filter((t) => t.role === 'user').map((t) => t.parts.map((p) => p.text).join('')),
      ['Remember the number 42.', 'Which number?'],
    );
    assert.ok(existsSync(join(app, '.relive', 'relive.db')), "npx relive's SQLite file is in the app");
  });
});

/** better-sqlite3's native module for the installed copy (see the file's comment). */
async function installSqliteBinary(app: string): Promise<void> {
  const theirs = join(app, 'node_modules', 'better-sqlite3');
  const ourManifest = createRequire(join(root, 'package.json')).resolve('better-sqlite3/package.json');
  const ours = dirname(ourManifest);
  const version = (dir: string) => (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  const built = join(ours, 'build', 'Release', 'better_sqlite3.node');
  if (version(ours) === version(theirs) && existsSync(built)) {
    mkdirSync(join(theirs, 'build', 'Release'), { recursive: true });
    copyFileSync(built, join(theirs, 'build', 'Release', 'better_sqlite3.node'));
  } else {
    await mustRun('npm', ['rebuild', 'better-sqlite3'], app);
  }
}
