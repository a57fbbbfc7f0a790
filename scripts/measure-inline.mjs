// What carrying the wasm inline (base64 in a JS module, src/platform/browser-wasm.ts) costs against fetching the
// .wasm file, in Chromium: bytes on the wire (raw and gzip) and the time from request to compiled module.
// Usage: node scripts/measure-inline.mjs [rounds=30]   (needs npm run build and /usr/bin/chromium)
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('..', import.meta.url));
const rounds = Number(process.argv[2] ?? 30);
const builds = [['threaded', 'biasrc.wasm'], ['debug', 'biasrc.debug.wasm']];

const files = new Map();
for (const [name, file] of builds) {
  files.set(`/${name}.js`, ['text/javascript', readFileSync(join(root, 'dist', 'inline', `${name}.js`))]);
  files.set(`/${file}`, ['application/wasm', readFileSync(join(root, 'build', file))]);
}
files.set('/locate.js', ['text/javascript', readFileSync(join(root, 'dist', 'locate.js'))]);
files.set('/errors.js', ['text/javascript', readFileSync(join(root, 'dist', 'errors.js'))]);
files.set('/', ['text/html', Buffer.from('<!doctype html><meta charset="utf-8"><title>measure</title>')]);

const server = createServer((req, res) => {
  const entry = files.get(new URL(req.url, 'http://x').pathname);
  if (!entry) return res.writeHead(404).end();
  res.writeHead(200, { 'Content-Type': entry[0], 'Cache-Control': 'no-store' }).end(entry[1]);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage();
await page.goto(`${base}/`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log('| build | wasm bytes (gzip) | inline module bytes (gzip) | fetch + compileStreaming (median ms) | import + base64 decode + compile (median ms) | decode alone (ms) | atob decode (ms) |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const [name, file] of builds) {
  const times = await page.evaluate(async ({ name, file, rounds }) => {
    const { fromBase64 } = await import('/locate.js');
    const streaming = [], inline = [], decode = [], atobDecode = [];
    for (let i = 0; i < rounds; i++) {
      let t = performance.now();
      await WebAssembly.compileStreaming(fetch(`/${file}?${i}`));
      streaming.push(performance.now() - t);
      t = performance.now();
      const text = (await import(`/${name}.js?${i}`)).default;
      const t2 = performance.now();
      const bytes = fromBase64(text);
      decode.push(performance.now() - t2);
      const t3 = performance.now(); // the fallback where Uint8Array.fromBase64 is missing
      const binary = atob(text), copy = new Uint8Array(binary.length);
      for (let j = 0; j < binary.length; j++) copy[j] = binary.charCodeAt(j);
      atobDecode.push(performance.now() - t3);
      await WebAssembly.compile(bytes);
      inline.push(performance.now() - t);
    }
    return { streaming, inline, decode, atobDecode, native: typeof Uint8Array.fromBase64 === 'function' };
  }, { name, file, rounds });
  const wasm = files.get(`/${file}`)[1], js = files.get(`/${name}.js`)[1];
  console.log(`| ${name} | ${wasm.length} (${gzipSync(wasm, { level: 9 }).length}) | ${js.length} (${gzipSync(js, { level: 9 }).length}) | ` +
    `${median(times.streaming).toFixed(2)} | ${median(times.inline).toFixed(2)} | ${median(times.decode).toFixed(2)}${times.native ? ' (fromBase64)' : ''} | ${median(times.atobDecode).toFixed(2)} |`);
}
await browser.close();
server.close();
