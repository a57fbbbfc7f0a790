// A real browser: Debian's chromium driven by playwright-core (executablePath; nothing is downloaded).
// One server sends COOP/COEP (threads), one does not (single-thread fallback).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';

const root = fileURLToPath(new URL('..', import.meta.url));
const chromiumPath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.map': 'application/json' };

function serve(isolated: boolean): Promise<Server> {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const allowed = ['/dist/', '/build/', '/test/browser/'].some((p) => path.startsWith(p));
    try {
      if (!allowed) throw new Error('not served');
      const body = await readFile(join(root, path));
      const headers: Record<string, string> = { 'Content-Type': types[extname(path)] ?? 'application/octet-stream' };
      if (isolated) Object.assign(headers, { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' });
      res.writeHead(200, headers).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const port = (server: Server) => (server.address() as { port: number }).port;

if (!chromiumPath) {
  if (process.env.CI) {
    it('browser tests need Chromium', () => {
      throw new Error('CI is set but no Chromium was found (/usr/bin/chromium): .ci/run installs it with apt-get');
    });
  } else {
    console.warn('browser tests skipped: no Chromium at /usr/bin/chromium (apt-get install chromium to run them)');
    it.skip('browser tests (no Chromium installed)', () => {});
  }
} else {
  describe('in Chromium', () => {
    let browser: Browser;
    let isolated: Server;
    let plain: Server;

    beforeAll(async () => {
      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({
        executablePath: chromiumPath,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
          '--disable-component-update', '--disable-sync'],
      });
      [isolated, plain] = await Promise.all([serve(true), serve(false)]);
    });

    afterAll(async () => {
      await browser?.close();
      isolated?.close();
      plain?.close();
    });

    async function result(url: string): Promise<any> {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(url);
      await page.waitForFunction(() => (window as any).__result !== undefined, null, { timeout: 60_000 });
      const r = await page.evaluate(() => (window as any).__result);
      await page.close();
      return { ...r, pageErrors: errors };
    }

    it('with COOP/COEP: two module workers share objects and release them; terminated workers are detached', async () => {
      const r = await result(`http://127.0.0.1:${port(isolated)}/test/browser/index.html`);
      expect(r.error).toBeUndefined();
      expect(r).toMatchObject({ crossOriginIsolated: true, shared: true, values: [0, 1, 2], threadsBefore: 3, threadsAfter: 1, pageErrors: [] });
      // the two workers are spawned at once: either may attach first and take tid 2
      expect([...r.tids].sort()).toEqual([2, 3]);
      expect(r.owners).toEqual([r.tids[0]]); // w1 made the objects
    });

    it('without the headers: single-thread fallback, and spawn says which headers are missing', async () => {
      const r = await result(`http://127.0.0.1:${port(plain)}/test/browser/index.html`);
      expect(r.error).toBeUndefined();
      expect(r).toMatchObject({ crossOriginIsolated: false, shared: false, liveObjects: 0 });
      expect(r.spawnError.code).toBe('ENOTSHARED');
      expect(r.spawnError.message).toMatch(/Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);
    });
  });
}
