// The idle waiter (src/idle.ts) against a collector, with the core's two calls played by the test, so that the one
// interleaving that matters is forced: a pause ends and the next one begins between the waiter's acknowledgement and
// its sleep. Counts turns of the event loop, never time.
import { describe, expect, it } from 'vitest';
import { LAYOUT } from 'biasrc';
import { startIdleWaiter } from '../dist/idle.js';

const QUEUE = 0, ATTENTION = 1;
const pause = (epoch: number) => LAYOUT.ATTENTION_PAUSE | (epoch << LAYOUT.ATTENTION_EPOCH_SHIFT);
const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A waiter over fresh words whose brc_safepoint acknowledges the epoch it reads, then runs `afterAck` once. */
function waiter(afterAck: (words: Int32Array, acks: number[]) => void) {
  const memory = { buffer: new SharedArrayBuffer(8) };
  const words = new Int32Array(memory.buffer);
  const acks: number[] = [];
  let closed = false;
  startIdleWaiter({
    memory, queueIndex: QUEUE, attentionIndex: ATTENTION, closed: () => closed,
    safepoint: () => {
      const a = Atomics.load(words, ATTENTION);
      if ((a & LAYOUT.ATTENTION_PAUSE) === 0) return 0;
      acks.push(a >>> LAYOUT.ATTENTION_EPOCH_SHIFT);
      afterAck(words, acks);
      return 1;
    },
    collect: () => {},
  });
  const close = () => {
    closed = true;
    Atomics.store(words, ATTENTION, 0);
    Atomics.notify(words, ATTENTION);
    Atomics.notify(words, QUEUE);
  };
  return { words, acks, close };
}

/** Turns of the event loop until `ready`, at most `limit`. */
async function turnsUntil(ready: () => boolean, limit = 1000): Promise<boolean> {
  for (let i = 0; i < limit && !ready(); i++) await turn();
  return ready();
}

describe('the idle waiter', () => {
  it('acknowledges the next pause when the collection it acknowledged ends and another begins before it sleeps', async () => {
    const w = waiter((words, acks) => {
      if (acks.length !== 1) return;
      // between the acknowledgement and the waiter's sleep: the collector releases (PAUSE cleared, notified: nobody
      // sleeps yet), and the next collection asks again (its wake-up goes to the queue word)
      Atomics.store(words, ATTENTION, 0);
      Atomics.notify(words, ATTENTION);
      Atomics.store(words, ATTENTION, pause(2));
      Atomics.notify(words, QUEUE);
    });
    Atomics.store(w.words, ATTENTION, pause(1));
    Atomics.notify(w.words, QUEUE); // the first collection's wake-up
    expect(await turnsUntil(() => w.acks.length >= 2)).toBe(true);
    expect(w.acks).toEqual([1, 2]);
    w.close();
  });

  it('sleeps through a pause it acknowledged until the word moves, then acknowledges the next one', async () => {
    const w = waiter(() => {});
    Atomics.store(w.words, ATTENTION, pause(1));
    Atomics.notify(w.words, QUEUE);
    expect(await turnsUntil(() => w.acks.length >= 1)).toBe(true);
    for (let i = 0; i < 20; i++) await turn();
    expect(w.acks).toEqual([1]); // asleep: the word has not moved
    Atomics.store(w.words, ATTENTION, pause(2));
    Atomics.notify(w.words, ATTENTION);
    expect(await turnsUntil(() => w.acks.length >= 2)).toBe(true);
    expect(w.acks).toEqual([1, 2]);
    w.close();
  });
});
