// A real browser: Debian's chromium driven by playwright-core (executablePath; nothing is downloaded).
// One server sends COOP/COEP (threads), one does not (single-thread fallback).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { chromiumPath, launch, pageResult, port, serve } from './helpers/browser.js';

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
      browser = await launch();
      [isolated, plain] = await Promise.all([serve(true), serve(false)]);
    });

    afterAll(async () => {
      await browser?.close();
      isolated?.close();
      plain?.close();
    });

    const result = (url: string) => pageResult(browser, url);

    it('with COOP/COEP: two module workers share objects and release them; terminated workers are detached', async () => {
      const r = await result(`http://127.0.0.1:${port(isolated)}/test/browser/index.html`);
      expect(r.error).toBeUndefined();
      expect(r).toMatchObject({ crossOriginIsolated: true, shared: true, values: [0, 1, 2], threadsBefore: 3, threadsAfter: 1, cycleFreed: 2, exactLive: 0, pageErrors: [] });
      // the workers join in whichever order they start (issue 11.8): tids 2 and 3 between them, and w1's objects
      // are owned by w1, whichever tid it got
      expect([...r.tids].sort()).toEqual([2, 3]);
      expect(r.owners).toEqual([r.tids[0]]);
    });

    it('shapes and strings: every UTF-8 class over shared memory (TextDecoder refuses it), three workers on one shape', async () => {
      const r = await result(`http://127.0.0.1:${port(isolated)}/test/browser/shapes.html`);
      expect(r.error).toBeUndefined();
      expect(r).toMatchObject({ refusesShared: true, shared: true, hits: 1500, total: 375, live: 0, pageErrors: [] });
      expect(r.strings).toEqual(new Array(11).fill(true));
      expect(r.workersReadNote).toEqual([true, true, true]);
      expect(r.workerIds).toEqual([true, true, true]);
      expect(r.labels).toEqual(['w0:499:ñ😀', 500, 'w1:499:ñ😀', 500, 'w2:499:ñ😀', 500]);
    });

    it('without the headers: single-thread fallback, and spawn says which headers are missing', async () => {
      const r = await result(`http://127.0.0.1:${port(plain)}/test/browser/index.html`);
      expect(r.error).toBeUndefined();
      expect(r).toMatchObject({ crossOriginIsolated: false, shared: false, liveObjects: 0, cycleFreed: 2, exactLive: 0, sharedArrayBuffer: 'undefined' });
      expect(r.spawnError.code).toBe('ENOTSHARED');
      expect(r.spawnError.message).toMatch(/Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);
    });
  });
}
