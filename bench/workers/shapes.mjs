// Worker for the shapes suite, on the shipped package (dist/). Both workers join one heap through the public API
// (Heap.join: what joinHeap does) and declare the same shape. Worker 0 builds a complete binary tree of `nodes`
// nodes (node i has children 2i+1 and 2i+2, value i, id i) and sends it to worker 1 over a MessagePort, four ways:
//   shape         heap.shape: Node.create({ value, id, left, right }); the walk points one accessor at each node
//   dataview      the same objects by hand: heap.alloc(12, 2), a DataView over the memory at hand-computed offsets
//                 for value and id, heap.setRef / heap.getRef for the children (the README's way)
//   objectbuffer  @bnaya/objectbuffer as its README shows: createObjectBuffer(args, size, { root: tree },
//                 { useSharedArrayBuffer: true }) of a JS tree; the receiver loadObjectBuffer()s the SharedArrayBuffer
//   clone         a plain JS object tree, postMessage'd (structured clone)
// Worker 1 walks what it got (depth first, explicit stack), checks it, releases it (biasrc kinds), and replies.
// Timestamps come from one process-wide clock.
import { once } from 'node:events';
import { parentPort, workerData } from 'node:worker_threads';
import { createObjectBuffer, getUnderlyingArrayBuffer, loadObjectBuffer } from '@bnaya/objectbuffer';
import { Heap } from '../../dist/index.js';
import { barrier } from '../lib/workers.mjs';
import { median, nowNs } from '../lib/measure.mjs';

const { share, index, port, nodes, timing, kinds } = workerData;
const heap = await Heap.join(share);
const Node = heap.shape('TreeNode', { value: 'f64', id: 'u32', left: 'self', right: 'self' });

// the hand-written layout of the same node: slots 0 and 1 (left, right), then the payload, 8-aligned: value at +0, id at +8
const DV_BYTES = 12, DV_PAYLOAD = 16 + 2 * 4;
let dv = new DataView(heap.memory.buffer);

const obArgs = { textEncoder: new TextEncoder(), textDecoder: new TextDecoder() };
const obBytes = nodes * 128 + (1 << 20); // 100,000 nodes take 8.0 MiB

function buildShape() {
  const h = new Float64Array(nodes); // tagged handles are above 2^32
  for (let i = nodes - 1; i >= 0; i--) {
    const l = 2 * i + 1, r = l + 1;
    h[i] = Node.create({ value: i, id: i, left: l < nodes ? h[l] : undefined, right: r < nodes ? h[r] : undefined });
    if (l < nodes) heap.decref(h[l]); // the slot now holds the only reference
    if (r < nodes) heap.decref(h[r]);
  }
  return h[0];
}

// the allocation-free form: create(null, into) points one accessor at each new object, filled through it
let cursor;
function buildShapeInto() {
  const h = new Float64Array(nodes);
  for (let i = nodes - 1; i >= 0; i--) {
    const node = Node.create(null, cursor);
    const n = cursor ??= Node.at(node);
    n.value = i;
    n.id = i;
    const l = 2 * i + 1, r = l + 1;
    if (l < nodes) { n.left = h[l]; heap.decref(h[l]); }
    if (r < nodes) { n.right = h[r]; heap.decref(h[r]); }
    h[i] = node;
  }
  return h[0];
}

function buildDataView() {
  const h = new Float64Array(nodes);
  for (let i = nodes - 1; i >= 0; i--) {
    const node = heap.alloc(DV_BYTES, 2);
    const a = node >>> 0;
    if (a + DV_PAYLOAD + DV_BYTES > dv.byteLength) dv = new DataView(heap.memory.buffer);
    dv.setFloat64(a + DV_PAYLOAD, i, true);
    dv.setUint32(a + DV_PAYLOAD + 8, i, true);
    const l = 2 * i + 1, r = l + 1;
    if (l < nodes) { heap.setRef(node, 0, h[l]); heap.decref(h[l]); }
    if (r < nodes) { heap.setRef(node, 1, h[r]); heap.decref(h[r]); }
    h[i] = node;
  }
  return h[0];
}

function buildJs() {
  const h = new Array(nodes);
  for (let i = nodes - 1; i >= 0; i--) {
    const l = 2 * i + 1, r = l + 1;
    h[i] = { value: i, id: i, left: l < nodes ? h[l] : null, right: r < nodes ? h[r] : null };
  }
  return h[0];
}

function buildObjectBuffer() {
  const ob = createObjectBuffer(obArgs, obBytes, { root: buildJs() }, { useSharedArrayBuffer: true });
  return getUnderlyingArrayBuffer(ob);
}

function walkShape(root) {
  let sum = 0, count = 0;
  const n = Node.at(root);
  const stack = [root];
  while (stack.length) {
    n.at(stack.pop());
    sum += n.value + n.id;
    count++;
    const l = n.left, r = n.right;
    if (l) stack.push(l);
    if (r) stack.push(r);
  }
  return { sum, count };
}

function walkDataView(root) {
  let sum = 0, count = 0;
  const stack = [root];
  while (stack.length) {
    const node = stack.pop();
    const a = node >>> 0;
    if (a + DV_PAYLOAD + DV_BYTES > dv.byteLength) dv = new DataView(heap.memory.buffer);
    sum += dv.getFloat64(a + DV_PAYLOAD, true) + dv.getUint32(a + DV_PAYLOAD + 8, true);
    count++;
    const l = heap.getRef(node, 0), r = heap.getRef(node, 1);
    if (l) stack.push(l);
    if (r) stack.push(r);
  }
  return { sum, count };
}

/** Plain JS objects and objectbuffer's proxies alike. */
function walkObjects(root) {
  let sum = 0, count = 0;
  const stack = [root];
  while (stack.length) {
    const node = stack.pop();
    sum += node.value + node.id;
    count++;
    const l = node.left, r = node.right;
    if (l) stack.push(l);
    if (r) stack.push(r);
  }
  return { sum, count };
}

const BUILD = { shape: buildShape, dataview: buildDataView, objectbuffer: buildObjectBuffer, clone: buildJs };
const WALK = { shape: walkShape, dataview: walkDataView, objectbuffer: walkObjects, clone: walkObjects };
const BIASRC = new Set(['shape', 'dataview']);
const HANDOFFS = 5;

const expectedSum = nodes * (nodes - 1); // value + id = 2i
const check = ({ sum, count }, kind) => {
  if (sum !== expectedSum || count !== nodes) throw new Error(`shapes ${kind}: bad tree (${count} nodes, sum ${sum})`);
};

async function builder() {
  const out = Object.fromEntries(kinds.map((k) => [k, []]));
  out.shapeInto = [];
  for (let r = 0; r < timing.warmup + timing.runs; r++) {
    // the allocation-free build, timed alone and freed at once (the hand-off and walk are the same as shape's)
    const i0 = nowNs();
    const tree = buildShapeInto();
    const into = nowNs() - i0;
    heap.decref(tree);
    if (r >= timing.warmup) out.shapeInto.push({ build: into });
    // the order turns each round: no kind always comes right after the clone's or objectbuffer's 100,000 JS objects
    // become garbage. (Forcing a full GC before each step instead slowed the shape walk 2-10x: V8 ages out code over
    // repeated full collections; programs do not force them.)
    for (let j = 0; j < kinds.length; j++) {
      const kind = kinds[(j + r) % kinds.length];
      const t0 = nowNs();
      const payload = BUILD[kind]();
      const built = nowNs();
      // a hand-off is one message: thread wake-up noise on a busy machine is as large, so each round sends the
      // payload HANDOFFS times (the receiver answers the first ones at once) and keeps the median
      const handoffs = [];
      for (let k = 1; k < HANDOFFS; k++) {
        port.postMessage({ kind, payload, sent: nowNs(), ping: true });
        const [pong] = await once(port, 'message');
        handoffs.push(pong.received - pong.sent);
      }
      port.postMessage({ kind, payload, sent: nowNs() });
      const [reply] = await once(port, 'message');
      handoffs.push(reply.received - reply.sent);
      let collect = 0;
      if (BIASRC.has(kind)) {
        // the receiver's decref queued the root for us, its owner: merging it frees the whole tree here
        const c0 = nowNs();
        heap.collect();
        collect = nowNs() - c0;
        const live = heap.stats().liveObjects;
        if (live !== 0) throw new Error(`shapes ${kind}: ${live} objects still live after the release`);
      }
      if (r >= timing.warmup) {
        out[kind].push({ build: built - t0, handoff: median(handoffs), walk: reply.walk, release: reply.release + collect });
      }
    }
  }
  port.postMessage({ kind: 'done' });
  return out;
}

async function receiver() {
  for (;;) {
    const [msg] = await once(port, 'message');
    if (msg.kind === 'done') return null;
    // usable from here: the tree deserialized (clone), the buffer loaded (objectbuffer), the handle in hand (biasrc)
    const root = msg.kind === 'objectbuffer' ? loadObjectBuffer(obArgs, msg.payload).root : msg.payload;
    const received = nowNs();
    if (msg.ping) {
      port.postMessage({ sent: msg.sent, received });
      continue;
    }
    const t0 = nowNs();
    check(WALK[msg.kind](root), msg.kind);
    const walk = nowNs() - t0;
    let release = 0;
    if (BIASRC.has(msg.kind)) {
      const r0 = nowNs();
      heap.decref(root); // not ours: queued for the owner, who frees the tree at its next collect
      release = nowNs() - r0;
    }
    port.postMessage({ sent: msg.sent, received, walk, release });
  }
}

barrier(); // both attached and listening
const result = index === 0 ? await builder() : await receiver();
barrier();
await heap.close();
port.close();
parentPort.postMessage(result);
