// The package as users get it: `npm pack`, installed from the tarball into a fresh app, then built by the real tools
// with nothing configured but the two headers (test/bundlers/app: one app for Vite, esbuild, webpack 5 and Rollup),
// served with COOP/COEP and without, and run in Debian's Chromium (playwright-core, nothing downloaded). Also: the
// README example and the factory form on Node, the types under a Node-only and a DOM tsconfig (skipLibCheck false),
// publint --strict and arethetypeswrong, and an AssemblyScript project importing the core.
//
// Cost on 2 cores: one pack, one offline install (the tarball has no dependencies; the tools are this repo's
// devDependencies, linked into the app's node_modules as a user's would be installed), the builds one after another,
// one browser. Nothing assumes timing or the order in which workers start.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile as execFileCb } from 'node:child_process';
import type { Server } from 'node:http';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { chromiumPath, launch, serve } from './helpers/browser.js';

const execFile = promisify(execFileCb);
const repo = fileURLToPath(new URL('..', import.meta.url));
const fixtures = join(repo, 'test', 'bundlers');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { name: string; version: string };

/** A devDependency's command, by its package.json `bin` (so it works whether or not npm ran its install script). */
function bin(name: string, command = name.split('/').pop()!): string {
  const manifest = JSON.parse(readFileSync(join(repo, 'node_modules', name, 'package.json'), 'utf8')) as { bin: string | Record<string, string> };
  const path = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin[command]!;
  return join(repo, 'node_modules', name, path);
}

async function run(file: string, args: string[], cwd: string, node = true): Promise<string> {
  try {
    const { stdout, stderr } = node
      ? await execFile(process.execPath, [file, ...args], { cwd, maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } })
      : await execFile(file, args, { cwd, maxBuffer: 64 << 20 });
    return stdout + stderr;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${relative(repo, file)} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}\n${e.stderr ?? ''}\n${e.message}`);
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'biasrc-bundlers-'));
const app = join(tmp, 'app');
/** The same app with webpack's layout: webpack.config.js (entry, dev-server headers) and public/index.html. */
const webpackApp = join(tmp, 'webpack-app');
const out = (tool: string) => join(tmp, 'out', tool);
const timings: Record<string, number> = {};

async function timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await fn();
  } finally {
    timings[name] = Math.round(performance.now() - started);
  }
}

// ---- the user's side: pack, install, build -------------------------------------------------------------------------

const TOOLS = ['@rollup/plugin-node-resolve', '@types/node', 'esbuild', 'rollup', 'typescript', 'vite', 'vite7', 'webpack', 'webpack-cli', 'webpack-dev-server'];
/** Vite 8 (Rolldown) and Vite 7 (esbuild for the dev server's dependency optimizer, Rollup for builds). */
const VITES: Record<string, string> = { 'vite 8': 'vite', 'vite 7': 'vite7' };

async function packAndInstall(): Promise<void> {
  // prepack builds only what is out of date (scripts/build.mjs --if-needed): after `npm run build`, nothing
  const packed = (await run(npmCli(), ['pack', '--pack-destination', tmp, '--silent'], repo)).trim().split('\n').pop()!;
  writeFileSync(join(tmp, 'package.json'), JSON.stringify({
    name: 'biasrc-bundler-apps', private: true, type: 'module', dependencies: { [pkg.name]: `file:./${packed}` },
  }, null, 2));
  // the tarball has no dependencies: nothing is fetched
  await run(npmCli(), ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock'], tmp);
  for (const name of TOOLS) {
    const link = join(tmp, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(repo, 'node_modules', name), link, 'dir');
  }
  cpSync(join(fixtures, 'app'), app, { recursive: true });
  cpSync(join(fixtures, 'webpack'), webpackApp, { recursive: true });
  cpSync(join(fixtures, 'readme'), join(tmp, 'readme-app'), { recursive: true });
  for (const file of ['main.js', 'worker.js']) cpSync(join(app, file), join(webpackApp, file));
}

/** npm's own CLI script, run with this Node (the same npm that runs `npm test`). */
function npmCli(): string {
  const fromEnv = process.env.npm_execpath;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  return join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
}

const page = (module: boolean) => `<!doctype html>\n<meta charset="utf-8">\n<title>biasrc app</title>\n<script ${module ? 'type="module" ' : ''}src="./main.js"></script>\n`;

/** Each tool's whole setup, as the README's "In browsers" shows it. */
const BUILDS: Record<string, () => Promise<unknown>> = {
  'vite 8 build': () => run(bin('vite'), ['build', '--outDir', out('vite'), '--emptyOutDir', '--logLevel', 'warn'], app),
  'vite 7 build': () => run(bin('vite7', 'vite'), ['build', '--outDir', out('vite7'), '--emptyOutDir', '--logLevel', 'warn'], app),
  esbuild: async () => {
    await run(bin('esbuild'), ['main.js', 'worker.js', '--bundle', '--format=esm', `--outdir=${out('esbuild')}`, '--log-level=warning'], app, false);
    writeFileSync(join(out('esbuild'), 'index.html'), page(true));
  },
  'esbuild --splitting': async () => {
    await run(bin('esbuild'), ['main.js', 'worker.js', '--bundle', '--format=esm', '--splitting', `--outdir=${out('esbuild-splitting')}`, '--log-level=warning'], app, false);
    writeFileSync(join(out('esbuild-splitting'), 'index.html'), page(true));
  },
  'webpack 5': async () => {
    await run(bin('webpack-cli'), ['--mode', 'production', '--output-path', out('webpack'), '--no-stats'], webpackApp);
    cpSync(join(webpackApp, 'public', 'index.html'), join(out('webpack'), 'index.html')); // a classic script
  },
  'README example (vite 8 build)': () => run(bin('vite'), ['build', '--outDir', out('readme'), '--emptyOutDir', '--logLevel', 'warn'], join(tmp, 'readme-app')),
  rollup: async () => {
    await run(bin('rollup'), ['-c', '--dir', out('rollup'), '--silent'], app);
    writeFileSync(join(out('rollup'), 'index.html'), page(true));
  },
};
const OUT_DIR: Record<string, string> = {
  'vite 8 build': 'vite', 'vite 7 build': 'vite7', esbuild: 'esbuild', 'esbuild --splitting': 'esbuild-splitting', 'webpack 5': 'webpack', rollup: 'rollup',
};

// ---- serving and loading -------------------------------------------------------------------------------------------

const serveApp = (dir: string, isolated: boolean) => serve(isolated, { dir, prefixes: ['/'], index: true });

const urlOf = (server: Server) => `http://127.0.0.1:${(server.address() as { port: number }).port}/`;

interface PageOutcome {
  result: Record<string, any>;
  /** Uncaught errors in the page since its last navigation. */
  pageErrors: string[];
  navigations: number;
}

async function load(browser: Browser, url: string): Promise<PageOutcome> {
  const tab: Page = await browser.newPage();
  let pageErrors: string[] = [];
  let navigations = 0;
  tab.on('pageerror', (e) => pageErrors.push(String(e)));
  tab.on('framenavigated', (frame) => {
    if (frame !== tab.mainFrame()) return;
    navigations += 1;
    pageErrors = []; // Vite's dev server reloads the page once when it first meets a dependency (in the worker)
  });
  try {
    await tab.goto(url);
    // poll rather than wait on one execution context, which a reload destroys; the bound is generous, not a timing
    // assumption: on an idle machine a page answers in well under a second
    for (let i = 0; ; i++) {
      const result = await tab.evaluate(() => (window as { __result?: unknown }).__result).catch(() => undefined);
      if (result !== undefined) return { result: result as Record<string, any>, pageErrors, navigations };
      if (i >= 1200) throw new Error(`${url}: no result after 120 s (page errors: ${pageErrors.join('; ') || 'none'})`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await tab.close();
  }
}

function expectThreaded({ result, pageErrors }: PageOutcome): void {
  expect(result.error).toBeUndefined();
  expect(result).toMatchObject({ crossOriginIsolated: true, shared: true, debug: true, liveObjects: 0, threadsAfter: 1 });
  expect(result.count).toBe(result.expected); // every locked increment of the three workers landed
  expect(new Set(result.tids).size).toBe(3);
  expect(result.results.map((r: { done: number }) => r.done)).toEqual([200, 200, 200]);
  expect(result.unbundled.message).toContain("pass () => new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })");
  expect(pageErrors).toEqual([]);
}

function expectFallback({ result, pageErrors }: PageOutcome): void {
  expect(result.error).toBeUndefined();
  expect(result).toMatchObject({ crossOriginIsolated: false, shared: false, liveObjects: 0, movedShared: false });
  expect(result.spawnError.code).toBe('ENOTSHARED');
  expect(result.spawnError.message).toMatch(/Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);
  // a location that is wrong: the URL, the status and the fix
  expect(result.loadError.code).toBe('ELOAD');
  // (a static server says 404; Vite's dev server answers a missing file with its index.html)
  expect(result.loadError.message).toMatch(/\/moved\/biasrc\.single\.wasm failed \(HTTP (404 Not Found|200 with an HTML page)/);
  expect(result.loadError.message).toContain('wasm: { single: url }');
  expect(pageErrors).toEqual([]);
}

/** Every JavaScript file below dir. */
function scripts(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js')).map((f) => join(dir, f));
}

// ---- the tests -----------------------------------------------------------------------------------------------------

describe('the packed package in a fresh app', () => {
  const servers: Server[] = [];
  const pages: Record<string, { isolated: string; plain: string }> = {};
  let browser: Browser | undefined;

  beforeAll(async () => {
    await timed('pack + install', packAndInstall);
    for (const [tool, build] of Object.entries(BUILDS)) await timed(tool, build);
    for (const [tool, dir] of Object.entries(OUT_DIR)) {
      const [isolated, plain] = await Promise.all([serveApp(out(dir), true), serveApp(out(dir), false)]);
      servers.push(isolated, plain);
      pages[tool] = { isolated: urlOf(isolated), plain: urlOf(plain) };
    }
    if (chromiumPath) {
      browser = await launch();
    }
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    for (const server of servers) server.close();
    console.log(`bundlers: ${Object.entries(timings).map(([k, v]) => `${k} ${v} ms`).join(', ')}`);
    rmSync(tmp, { recursive: true, force: true });
  });

  describe('built without configuration', () => {
    it.each(Object.keys(OUT_DIR))('%s: the browser graph has no node: import and no wasm file to copy', (tool) => {
      const files = scripts(out(OUT_DIR[tool]!));
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) expect(readFileSync(file, 'utf8'), relative(tmp, file)).not.toMatch(/["']node:/);
      // the builds are inline (and split off where the tool splits dynamic imports): no asset URL to get wrong
      const all = readdirSync(out(OUT_DIR[tool]!), { recursive: true, encoding: 'utf8' });
      expect(all.filter((f) => f.endsWith('.wasm'))).toEqual([]);
    });

    it('the worker bundles carry no wasm: a worker gets the compiled module from the heap', () => {
      const worker = (tool: string, name: RegExp) => scripts(out(tool)).filter((f) => name.test(f.split('/').pop()!));
      const workers = [...worker('vite', /^worker-.*\.js$/), ...worker('vite7', /^worker-.*\.js$/), ...worker('esbuild', /^worker\.js$/), ...worker('rollup', /^worker\.js$/)];
      expect(workers).toHaveLength(4);
      for (const file of workers) {
        // a wasm module in base64 starts with "AGFzbQ" (\0asm); the inline builds are modules of their own
        const text = readFileSync(file, 'utf8');
        expect(text.includes('AGFzbQ'), relative(tmp, file)).toBe(false);
        expect(/inline\/(threaded|single|debug)/.test(text), relative(tmp, file)).toBe(false);
      }
    });
  });

  describe.runIf(chromiumPath)('in Chromium', () => {
    for (const tool of Object.keys(OUT_DIR)) {
      it(`${tool}, with COOP/COEP: three module workers update a shared structure under its lock and release it`, async () => {
        expectThreaded(await load(browser!, pages[tool]!.isolated));
      });
      it(`${tool}, without the headers: the single-thread fallback; spawn names the missing headers`, async () => {
        expectFallback(await load(browser!, pages[tool]!.plain));
      });
    }

    it("the README's browser example (as built by Vite) counts to 1 in a worker", async () => {
      const server = await serveApp(out('readme'), true);
      servers.push(server);
      const tab = await browser!.newPage();
      const errors: string[] = [];
      tab.on('pageerror', (e) => errors.push(String(e)));
      try {
        const logged = tab.waitForEvent('console', { predicate: (m) => m.type() === 'log', timeout: 120_000 });
        await tab.goto(urlOf(server));
        expect((await logged).text()).toBe('1');
        expect(errors).toEqual([]);
      } finally {
        await tab.close();
      }
    });

    describe.each(Object.keys(VITES))('%s dev server', (vite) => {
      // in this process, as `vite` runs it; the config file holds only the headers (a second server has none). The
      // dependency cache starts empty each time, as on a first `vite` run.
      async function devServer(isolated: boolean) {
        rmSync(join(tmp, 'node_modules', '.vite'), { recursive: true, force: true });
        const { createServer: createVite } = (await import(VITES[vite]!)) as typeof import('vite');
        const server = await createVite({
          root: app, configFile: isolated ? join(app, 'vite.config.js') : false, logLevel: 'warn', clearScreen: false,
          server: { host: '127.0.0.1', port: 0, strictPort: false, watch: null },
        });
        await server.listen();
        return { server, url: server.resolvedUrls!.local[0]! };
      }

      it('with COOP/COEP: the app unbundled, the dependency optimizer on, no optimizeDeps settings', async () => {
        const { server, url } = await devServer(true);
        try {
          const outcome = await load(browser!, url);
          expectThreaded(outcome);
          // Vite reloads the page once when the worker's import of biasrc/worker is new to its dependency cache
          expect(outcome.navigations).toBeLessThanOrEqual(2);
        } finally {
          await server.close();
        }
      });

      it('without the headers: the single-thread fallback', async () => {
        const { server, url } = await devServer(false);
        try {
          expectFallback(await load(browser!, url));
        } finally {
          await server.close();
        }
      });
    });
    describe('webpack dev server', () => {
      // as `webpack serve` runs it, with the app's webpack.config.js (its devServer holds the headers; a second
      // server gets none)
      async function devServer(isolated: boolean) {
        const { default: webpack } = await import('webpack');
        const { default: WebpackDevServer } = await import('webpack-dev-server');
        const config = (await import(pathToFileURL(join(webpackApp, 'webpack.config.js')).href)).default;
        const compiler = webpack({ ...config, context: webpackApp, mode: 'development', infrastructureLogging: { level: 'warn' }, stats: 'errors-warnings' });
        const server = new WebpackDevServer({
          ...(isolated ? config.devServer : {}), host: '127.0.0.1', port: 0,
          static: { directory: join(webpackApp, 'public'), watch: false }, // the CLI's default: ./public of the working directory
        }, compiler);
        await server.start();
        return { server, url: `http://127.0.0.1:${(server.server!.address() as { port: number }).port}/` };
      }

      it('with COOP/COEP (devServer.headers)', async () => {
        const { server, url } = await devServer(true);
        try {
          expectThreaded(await load(browser!, url));
        } finally {
          await server.stop();
        }
      });

      it('without the headers: the single-thread fallback', async () => {
        const { server, url } = await devServer(false);
        try {
          expectFallback(await load(browser!, url));
        } finally {
          await server.stop();
        }
      });
    });
  });

  if (!chromiumPath) {
    it(process.env.CI ? 'Chromium is required under CI' : 'browser runs skipped (no Chromium)', () => {
      if (process.env.CI) throw new Error('CI is set but no Chromium was found (/usr/bin/chromium): .ci/run installs it');
    });
  }

  describe('Node', () => {
    it('the README example runs against the installed package and prints what the README says', async () => {
      const dir = join(tmp, 'node-readme');
      cpSync(join(repo, 'test', 'fixtures', 'readme'), dir, { recursive: true });
      expect(await run(join(dir, 'main.mjs'), [], dir)).toBe('worker 2 summed the list: 6\nobjects still live: 0\n');
    });

    it('spawn takes the worker script\'s URL as well (the README example without its own Worker)', async () => {
      const dir = join(tmp, 'node-url');
      cpSync(join(repo, 'test', 'fixtures', 'readme'), dir, { recursive: true });
      const main = readFileSync(join(dir, 'main.mjs'), 'utf8');
      const withUrl = main.replace(/heap\.spawn\(\(\) => new Worker\((new URL\([^)]*\))\)\)/, 'heap.spawn($1)');
      expect(withUrl).not.toBe(main);
      writeFileSync(join(dir, 'main.mjs'), withUrl);
      expect(await run(join(dir, 'main.mjs'), [], dir)).toBe('worker 2 summed the list: 6\nobjects still live: 0\n');
    });
  });

  describe('types', () => {
    it.each(['tsconfig.node.json', 'tsconfig.dom.json'])('an app compiles with %s (skipLibCheck false)', async (config) => {
      const dir = join(tmp, 'types');
      if (!existsSync(dir)) cpSync(join(fixtures, 'types'), dir, { recursive: true });
      await run(bin('typescript', 'tsc'), ['-p', join(dir, config)], dir);
    });

    it('no declaration in the package says `any`', () => {
      const dist = join(tmp, 'node_modules', pkg.name, 'dist');
      const declarations = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.d.ts'));
      expect(declarations.length).toBeGreaterThan(5);
      for (const file of declarations) {
        const code = readFileSync(join(dist, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
        expect(code, file).not.toMatch(/\bany\b/);
      }
    });
  });

  describe('package hygiene', () => {
    it('publint --strict finds nothing', async () => {
      const report = await run(bin('publint'), ['run', '--strict', join(tmp, 'node_modules', pkg.name), '--pack', 'false'], tmp);
      expect(report).toContain('All good!');
    });

    it('arethetypeswrong finds nothing beyond what the README justifies', async () => {
      // --profile esm-only: biasrc is ESM only (no require() from CommonJS; Node >= 20.19 can require(esm) anyway);
      // the ./wasm* entries are the raw .wasm files, for apps that serve them themselves (./wasm/wait: the reference
      // biasrc_wait for hosts without JavaScript): no types to resolve
      const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'))!;
      await run(bin('@arethetypeswrong/cli', 'attw'), [join(tmp, tarball), '--profile', 'esm-only', '--no-color', '--no-emoji',
        '--exclude-entrypoints', './wasm', './wasm/debug', './wasm/single', './wasm/single-debug', './wasm/wait'], tmp);
    });

    it('the README shows the tested browser example verbatim', () => {
      const readme = readFileSync(join(repo, 'README.md'), 'utf8');
      for (const file of ['main.js', 'worker.js']) {
        expect(readme, file).toContain(`\`${file}\`:\n\n\`\`\`js\n${readFileSync(join(fixtures, 'readme', file), 'utf8')}\`\`\``);
      }
    });

    it('prepack (npm pack) rebuilds nothing that is up to date', async () => {
      expect(await run(join(repo, 'scripts', 'build.mjs'), ['--if-needed'], repo)).toBe('');
    });

    it('README links resolve inside the package; LICENSE, repository, homepage and bugs are there', () => {
      const installed = join(tmp, 'node_modules', pkg.name);
      const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
      expect(manifest.repository?.url).toBeTruthy();
      expect(manifest.homepage).toBeTruthy();
      expect(manifest.bugs?.url).toBeTruthy();
      expect(readFileSync(join(installed, 'LICENSE'), 'utf8')).toMatch(/MIT License/);
      const readme = readFileSync(join(installed, 'README.md'), 'utf8');
      const links = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l));
      expect(links.length).toBeGreaterThan(0);
      for (const link of links) expect(existsSync(join(installed, link)), link).toBe(true);
    });

    it('source maps point at sources that are in the package', () => {
      const dist = join(tmp, 'node_modules', pkg.name, 'dist');
      const maps = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js.map'));
      for (const file of maps) {
        const { sources } = JSON.parse(readFileSync(join(dist, file), 'utf8')) as { sources: string[] };
        for (const source of sources) expect(existsSync(join(dist, dirname(file), source)), `${file} -> ${source}`).toBe(true);
      }
    });

    it('an AssemblyScript project imports the core as "biasrc/assembly" and compiles with asc', async () => {
      const dir = join(tmp, 'assemblyscript');
      cpSync(join(fixtures, 'assemblyscript'), dir, { recursive: true });
      await run(bin('assemblyscript', 'asc'), ['--config', 'asconfig.json'], dir);
      const module = await WebAssembly.compile(readFileSync(join(dir, 'build', 'app.wasm')));
      expect(WebAssembly.Module.exports(module).map((e) => e.name)).toEqual(expect.arrayContaining(['roundTrip', 'brc_init']));
    });
  });
});
