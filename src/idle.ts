/**
 * A thread's idle waiter: while its event loop is idle, it merges what other threads queue for it as soon as they
 * queue it (the queue word is notified), and acknowledges a collection's pause (brc_safepoint) without blocking, so
 * that collections do not wait for idle threads. After an acknowledgement it sleeps until its ATTENTION word moves
 * (the collector clears PAUSE, then wakes it); the JS fast paths meanwhile see ATTENTION and call in.
 */

/** What the waiter needs of its heap: the memory, its two words (as Int32Array indices) and two core calls. */
export interface IdleThread {
  readonly memory: { readonly buffer: ArrayBufferLike };
  readonly queueIndex: number;
  readonly attentionIndex: number;
  /** brc_safepoint: 1 if a pause was acknowledged, 0 if none is asked. */
  safepoint(): number;
  /** brc_collect: merges this thread's queue. */
  collect(): void;
  closed(): boolean;
}

export function startIdleWaiter(t: IdleThread): void {
  const words = () => new Int32Array(t.memory.buffer);
  const sleepUntilMoved = (index: number, value: number) => {
    const result = Atomics.waitAsync(words(), index, value);
    if (result.async) void result.value.then(wake);
    else setTimeout(wake, 0); // it moved already (work queued, or the pause changed)
  };
  const wake = () => {
    if (t.closed()) return;
    // Read BEFORE the acknowledgement: if this pause ends and the next one begins after it, the word has moved and
    // the sleep below returns at once, so the next pause is acknowledged too. Read after, it could already name the
    // next pause, and we would sleep until that collection ends while it waits for us (until its timeout).
    const attention = Atomics.load(words(), t.attentionIndex);
    if (t.safepoint() === 0) {
      t.collect();
      sleepUntilMoved(t.queueIndex, 0);
    } else {
      sleepUntilMoved(t.attentionIndex, attention);
    }
  };
  sleepUntilMoved(t.queueIndex, 0);
}
