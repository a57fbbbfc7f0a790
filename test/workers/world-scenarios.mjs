// Worker threads for test/world.test.ts: holding the world against threads that wait or write at the same time.
// Each instantiates the core with its own env.biasrc_wait, which records where it sleeps in `probe`
// ([address of the last wait, waits entered, waits left]) or, for a thread that may not block (a browser main thread,
// where Atomics.wait throws), refuses to sleep at all. Control words in `ctl` are named by the test.
import { parentPort, workerData } from 'node:worker_threads';

const { module, memory, scenario, probe, ctl } = workerData;
const i32 = () => new Int32Array(memory.buffer);

function biasrcWait(address, expected, timeoutMs) {
  Atomics.store(probe, 0, address);
  Atomics.add(probe, 1, 1);
  Atomics.notify(probe, 1);
  if (workerData.mayNotBlock) throw new TypeError('biasrc_wait on a thread that may not block (Atomics.wait would throw here)');
  const result = Atomics.wait(i32(), address >>> 2, expected, timeoutMs < 0 ? Infinity : timeoutMs);
  Atomics.add(probe, 2, 1);
  return result === 'ok' ? 0 : result === 'not-equal' ? 1 : 2;
}

const { exports: x } = await WebAssembly.instantiate(module, { env: { memory, biasrc_wait: biasrcWait } });
const tid = x.brc_thread_attach();
if (tid === 0) throw new Error(`attach failed: ${x.brc_last_error()}`);
if (workerData.mayNotBlock) x.brc_set_can_block(0);

/** Sets ctl[i] = v and wakes whoever waits on it. */
function signal(i, v = 1) {
  Atomics.store(ctl, i, v);
  Atomics.notify(ctl, i);
}

/** Sleeps until ctl[i] is not 0. */
function awaitSignal(i) {
  while (Atomics.load(ctl, i) === 0) Atomics.wait(ctl, i, 0);
}

const scenarios = {
  /**
   * An async section's waiter (src/locks.ts #acquire) whose idle loop acknowledged a pause: brc_safepoint, then
   * brc_lock_wait_word on the object the main thread holds locked. Then it sleeps on the word until it changes and
   * takes the lock, as withLockAsync would. ctl: [0 go, 1 acked, 2 returned, 3 word].
   */
  waitWordInPause() {
    const { obj } = workerData;
    signal(4); // ready: attached
    awaitSignal(0);
    signal(1, x.brc_safepoint());
    const word = x.brc_lock_wait_word(obj) >>> 0;
    Atomics.store(ctl, 3, word | 0);
    signal(2);
    if (word !== 0) Atomics.wait(i32(), (obj + workerData.linkOffset) >>> 2, word | 0); // until the unlock's notify
    const tryLock = x.brc_try_lock(obj);
    if (tryLock === 0) x.brc_unlock(obj);
    return { word, tryLock, detached: x.brc_thread_detach() };
  },

  /**
   * Holds `obj`'s lock while idle: acknowledges every pause (brc_safepoint, as an idle waiter does) until ctl[1] is
   * set, then unlocks. ctl: [0 locked, 1 done].
   */
  holdLockIdle() {
    const { obj } = workerData;
    const taken = x.brc_try_lock(obj);
    signal(0);
    const attention = (x.brc_attention_address(tid) >>> 0) >>> 2;
    let acknowledged = 0;
    while (Atomics.load(ctl, 1) === 0) {
      if (x.brc_safepoint() === 1) {
        acknowledged++;
        Atomics.wait(i32(), attention, Atomics.load(i32(), attention), 1); // the pause's end changes it
        continue;
      }
      Atomics.wait(ctl, 1, 0, 1);
    }
    return { taken, acknowledged, unlocked: x.brc_unlock(obj), detached: x.brc_thread_detach() };
  },

  /** May not block: brc_lock on an object another thread holds (it spins), then unlocks. ctl: [0 calling]. */
  spinOnLock() {
    const { obj } = workerData;
    signal(0);
    const locked = x.brc_lock(obj);
    const unlocked = x.brc_unlock(obj);
    return { locked, unlocked, detached: x.brc_thread_detach() };
  },

  /**
   * May not block: after the main thread asked it to stop (ctl[0]), passes an operation boundary (brc_collect), where
   * it stops for good. Posts only if that call returns or throws, which it must not. ctl: [0 stop requested, 1 ready].
   */
  stopWithoutBlocking() {
    signal(1);
    awaitSignal(0);
    try {
      x.brc_collect();
      return { returned: true };
    } catch (error) {
      return { threw: String(error?.message ?? error) };
    }
  },

  /**
   * After the main thread asked it to stop (ctl[0]), allocates: it stops at brc_alloc's boundary. Once the stop is
   * withdrawn the allocation goes on; it says so (ctl[2] = 1) only after the call returned. ctl: [0 go, 1 ready,
   * 2 allocated].
   */
  allocAfterStop() {
    signal(1);
    awaitSignal(0);
    const obj = x.brc_alloc(8, 0);
    signal(2);
    x.brc_decref(obj);
    return { obj, detached: x.brc_thread_detach() };
  },

  /**
   * Requests the world (hold 'requested'), or holds it (poll until 0: 'held'), then says so (ctl[2]) and waits in
   * its own JavaScript, outside any operation, to be terminated there; 'detach' detaches itself instead, holding
   * the world. ctl: [0 never set, 1 ready, 2 holding].
   */
  holdWorld() {
    signal(1);
    const requested = x.brc_world_request();
    if (requested !== 0) return { requested };
    if (workerData.hold !== 'requested') while (x.brc_world_poll() !== 0) Atomics.wait(ctl, 3, 0, 1);
    signal(2);
    if (workerData.hold === 'detach') {
      const detached = x.brc_thread_detach();
      return { detached, world: Atomics.load(i32(), workerData.worldWord >>> 2) };
    }
    awaitSignal(0);
    return {};
  },

  /** Detaches incarnation `generation` of `dead` (an attached thread doing it, as the spawning thread does). */
  detachDead() {
    return { detachedDead: x.brc_thread_detach_dead(workerData.dead, workerData.generation) };
  },
};

parentPort.postMessage({ tid, ...scenarios[scenario]() });
