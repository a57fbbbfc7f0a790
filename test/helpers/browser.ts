// Chromium for tests (test/browser.test.ts, test/browser-lifecycle.test.ts): Debian's chromium driven by playwright-core, and a
// server for dist/, build/, test/browser/ and scripts/lib/ (the barrier), with or without the COOP/COEP headers.
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const chromiumPath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.map': 'application/json' };

/**
 * A server for `dir` (by default the repository, where only dist/, build/, test/browser/ and scripts/lib/ are
 * served), with or without the COOP/COEP headers that give a page shared memory. `index`: a path ending in / serves its index.html.
 */
export function serve(isolated: boolean, { dir = root, prefixes = ['/dist/', '/build/', '/test/browser/', '/scripts/lib/'], index = false } = {}): Promise<Server> {
  const server = createServer(async (req, res) => {
    let path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (index && path.endsWith('/')) path += 'index.html';
    try {
      if (path.includes('..') || !prefixes.some((p) => path.startsWith(p))) throw new Error('not served');
      const body = await readFile(join(dir, path));
      const headers: Record<string, string> = { 'Content-Type': types[extname(path)] ?? 'application/octet-stream' };
      if (isolated) Object.assign(headers, { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' });
      res.writeHead(200, headers).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

export const port = (server: Server) => (server.address() as { port: number }).port;

export async function launch(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/** Opens `url`, waits for window.__result, returns it with the page's uncaught errors. */
export async function pageResult(browser: Browser, url: string): Promise<any> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForFunction(() => (window as any).__result !== undefined, null, { timeout: 60_000 });
  const r = await page.evaluate(() => (window as any).__result);
  await page.close();
  return { ...r, pageErrors: errors };
}
