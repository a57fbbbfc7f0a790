// Worker for the share suite, on the shipped core (dist/). Worker 0 builds a complete binary tree (node i has
// children 2i+1 and 2i+2) and sends it to worker 1 over a MessagePort: once as biasrc objects (only the root's
// handle travels; the builder's reference goes with it), once as a plain JS object tree (structured clone). Worker 1
// walks what it got, checks it, releases it, and replies. Timestamps come from one process-wide clock.
import { parentPort, workerData } from 'node:worker_threads';
import { once } from 'node:events';
import { instantiateCore } from '../../dist/index.js';
import { barrier } from '../lib/workers.mjs';
import { nowNs } from '../lib/measure.mjs';

const { module, memory, index, port, nodes, timing } = workerData;
const core = await instantiateCore(module, memory);
const x = core.exports;
if (x.brc_thread_attach() === 0) throw new Error(`attach failed: ${x.brc_last_error()}`);
const PAYLOAD = 16 + 2 * 4; // header, two slots, then the i32 value
let i32 = new Int32Array(memory.buffer);
const view = (addr) => { if (addr + 4 > i32.byteLength) i32 = new Int32Array(memory.buffer); return i32; };

function buildBiasrc() {
  const h = new Uint32Array(nodes);
  for (let i = nodes - 1; i >= 0; i--) {
    const node = x.brc_alloc(4, 2);
    if (node === 0) throw new Error(`brc_alloc failed: ${x.brc_last_error()}`);
    view(node + PAYLOAD)[(node + PAYLOAD) >>> 2] = i;
    for (let s = 0; s < 2; s++) {
      const c = 2 * i + 1 + s;
      if (c < nodes) { x.brc_set_ref(node, s, h[c]); x.brc_decref(h[c]); } // the slot now holds the only reference
    }
    h[i] = node;
  }
  return h[0];
}

function buildJs() {
  const h = new Array(nodes);
  for (let i = nodes - 1; i >= 0; i--) {
    const l = 2 * i + 1, r = l + 1;
    h[i] = { value: i, left: l < nodes ? h[l] : null, right: r < nodes ? h[r] : null };
  }
  return h[0];
}

/** Sum of the values and node count, depth first with an explicit stack. */
function walkBiasrc(root) {
  let sum = 0, count = 0;
  const stack = [root];
  while (stack.length) {
    const node = stack.pop();
    sum += view(node + PAYLOAD)[(node + PAYLOAD) >>> 2];
    count++;
    const l = x.brc_get_ref(node, 0), r = x.brc_get_ref(node, 1);
    if (l) stack.push(l);
    if (r) stack.push(r);
  }
  return { sum, count };
}

function walkJs(root) {
  let sum = 0, count = 0;
  const stack = [root];
  while (stack.length) {
    const node = stack.pop();
    sum += node.value;
    count++;
    if (node.left) stack.push(node.left);
    if (node.right) stack.push(node.right);
  }
  return { sum, count };
}

const expectedSum = (nodes * (nodes - 1)) / 2;
const check = ({ sum, count }) => { if (sum !== expectedSum || count !== nodes) throw new Error(`share: bad tree (${count} nodes, sum ${sum})`); };

async function builder() {
  const out = { biasrc: [], clone: [] };
  for (let r = 0; r < timing.warmup + timing.runs; r++) {
    for (const kind of ['biasrc', 'clone']) {
      const t0 = nowNs();
      const payload = kind === 'biasrc' ? buildBiasrc() : buildJs();
      const built = nowNs();
      port.postMessage({ kind, payload, sent: nowNs() });
      const [reply] = await once(port, 'message');
      let collect = 0;
      if (kind === 'biasrc') {
        // the receiver's decref queued the root for us, its owner: merging it frees the whole tree here
        const c0 = nowNs();
        x.brc_collect();
        collect = nowNs() - c0;
        const live = x.brc_stat(x.STAT_LIVE_OBJECTS.value);
        if (live !== 0) throw new Error(`share: ${live} objects still live after the release`);
      }
      if (r >= timing.warmup) {
        out[kind].push({ build: built - t0, handoff: reply.received - reply.sent, walk: reply.walk, release: reply.release + collect });
      }
    }
  }
  port.postMessage({ kind: 'done' });
  return out;
}

async function receiver() {
  for (;;) {
    const [msg] = await once(port, 'message');
    const received = nowNs(); // the message is deserialized: the tree (or its root handle) is usable from here
    if (msg.kind === 'done') return null;
    const t0 = nowNs();
    check(msg.kind === 'biasrc' ? walkBiasrc(msg.payload) : walkJs(msg.payload));
    const walk = nowNs() - t0;
    let release = 0;
    if (msg.kind === 'biasrc') {
      const r0 = nowNs();
      x.brc_decref(msg.payload); // not ours: queued for the owner, who frees the tree at its next collect
      release = nowNs() - r0;
    }
    port.postMessage({ sent: msg.sent, received, walk, release });
  }
}

barrier(); // both attached and listening
const result = index === 0 ? await builder() : await receiver();
barrier();
x.brc_thread_detach();
port.close();
parentPort.postMessage(result);
