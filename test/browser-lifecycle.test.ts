// Worker lifecycle in Chromium (issue 11.5): a module worker that calls self.close() is noticed, whether biasrc's
// wrapper of self.close detaches it or the browser's own close ends it behind biasrc's back (the watchdog).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { chromiumPath, launch, pageResult, port, serve } from './helpers/browser.js';

if (!chromiumPath) {
  if (process.env.CI) {
    it('browser tests need Chromium', () => {
      throw new Error('CI is set but no Chromium was found (/usr/bin/chromium)');
    });
  } else {
    it.skip('browser lifecycle tests (no Chromium installed)', () => {});
  }
} else {
  describe('in Chromium: a worker that closes itself', () => {
    let browser: Browser;
    let isolated: Server;

    beforeAll(async () => {
      [browser, isolated] = await Promise.all([launch(), serve(true)]);
    });

    afterAll(async () => {
      await browser?.close();
      isolated?.close();
    });

    it('self.close() and the browser\'s own close: exited resolves, \'exit\' fires, the tid is reused, no orphans', async () => {
      const r = await pageResult(browser, `http://127.0.0.1:${port(isolated)}/test/browser/lifecycle.html`);
      expect(r.error).toBeUndefined();
      expect(r.pageErrors).toEqual([]);
      expect(r.cases).toHaveLength(2);
      for (const c of r.cases) {
        expect(c, c.op).toMatchObject({ tid: 2, code: 0, events: ['on 0', 'event 0'], threadsAfter: 1, ownerAfter: 0, nextTid: 2, running: 1 });
      }
      // what it owned: merged by its own detach (self.close()); orphans when nothing detached it (the watchdog did)
      expect(r.cases.map((c: { op: string; orphans: number }) => [c.op, c.orphans])).toEqual([['close', 0], ['rawClose', 20]]);
      expect(r).toMatchObject({ liveObjects: 0, threads: 1 });
    }, 90_000);
  });
}
